// redisStore against a real redis-server: cursors, exact resets under trimming, the tail.
import { compareCursors } from '../../../src/protocol/wire.js';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisStore, type EventStore, type RedisClient, type StoredEvent } from 'ssemux/server';
import { startRedis, type RedisServer } from '../../support/redis.js';
import { eventually } from './helpers.js';

let redis: RedisServer;
let admin: Redis;
const stores: EventStore[] = [];
let keys = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  // Small stream nodes, so that MAXLEN ~ trims after a handful of entries.
  await admin.config('SET', 'stream-node-max-entries', '4');
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});
afterAll(async () => {
  admin.disconnect();
  await redis.stop();
});

/** A store on a key of its own; a second store on the same key is a second instance. */
function open(options: { key?: string; maxLen?: number; client?: RedisClient } = {}) {
  const store = redisStore({ url: redis.url, key: options.key ?? `test:${++keys}`, ...options });
  stores.push(store);
  return store;
}
const event = (data: string, topic = 't') => ({ topic, type: 'message', data });
const clients = async () => (await admin.client('LIST') as string).trim().split('\n').length;

describe('redisStore', () => {
  it('numbers entries <redis time ms>-1, -2, … and stores topic, type, data and user', async () => {
    const key = `test:${++keys}`;
    const one = open({ key });
    const two = open({ key });
    const before = Date.now();
    const a = await one.append({ topic: 'news', type: 'created', data: 'line 1\nline 2', user: 'ann' });
    const b = await two.append(event(''));
    const [generation, n] = a.cursor.split('-');
    expect(Number(generation)).toBeGreaterThanOrEqual(before - 1_000);
    expect(n).toBe('1');
    expect(b.cursor).toBe(`${generation}-2`);
    expect((await one.read('0-0', 10)).events).toEqual([
      { cursor: a.cursor, topic: 'news', type: 'created', data: 'line 1\nline 2', user: 'ann' },
      { cursor: b.cursor, topic: 't', type: 'message', data: '' },
    ]);
    expect(await two.head()).toBe(b.cursor);
    expect(await open().head()).toBe('0-0');
  });

  it('reads after a cursor up to a limit, from any instance', async () => {
    const key = `test:${++keys}`;
    const writer = open({ key });
    const reader = open({ key });
    const events: StoredEvent[] = [];
    for (let i = 0; i < 6; i++) events.push(await writer.append(event(String(i))));
    expect(await reader.read(events[1]!.cursor, 3)).toEqual({ reset: undefined, events: events.slice(2, 5) });
    expect(await reader.read(events[5]!.cursor, 3)).toEqual({ reset: undefined, events: [] });
  });

  it('resets for retention exactly when the entry after the cursor was trimmed', async () => {
    const store = open({ maxLen: 4 });
    const events: StoredEvent[] = [];
    for (let i = 0; i < 20; i++) events.push(await store.append(event(String(i))));
    const all = (await store.read('0-0', 100));
    const kept = all.events;
    const firstKept = events.indexOf(events.find((e) => e.cursor === kept[0]!.cursor)!);
    expect(firstKept).toBeGreaterThan(0);
    expect(kept).toEqual(events.slice(firstKept));
    const lastGone = events[firstKept - 1]!.cursor;
    expect(all.reset).toEqual({ reason: 'retention', cursor: lastGone });
    // At the last trimmed entry nothing after it is missing; one before it, that entry is.
    expect(await store.read(lastGone, 100)).toEqual({ reset: undefined, events: kept });
    if (firstKept >= 2) {
      expect(await store.read(events[firstKept - 2]!.cursor, 100)).toEqual({ reset: { reason: 'retention', cursor: lastGone }, events: kept });
    }
  });

  it('resets with unknown-cursor for another generation, the future, garbage, and any cursor on an empty log', async () => {
    const store = open();
    expect(await store.read('0-0', 10)).toEqual({ reset: undefined, events: [] });
    expect(await store.read('5-5', 10)).toEqual({ reset: { reason: 'unknown-cursor', cursor: '0-0' }, events: [] });
    const events = [await store.append(event('a')), await store.append(event('b'))];
    const generation = events[0]!.cursor.split('-')[0]!;
    for (const cursor of [`${Number(generation) - 5}-1`, `${generation}-3`, 'nope']) {
      expect(await store.read(cursor, 10), cursor).toEqual({ reset: { reason: 'unknown-cursor', cursor: `${generation}-0` }, events });
    }
  });

  it('hands every event appended on any instance to subscribers, in order, and no more once unsubscribed', async () => {
    const key = `test:${++keys}`;
    const [a, b] = [open({ key }), open({ key })];
    const seen: string[] = [];
    const unsubscribe = await a.subscribe({ event: (e) => seen.push(e.cursor), lost: () => {} });
    const appended: string[] = [];
    await Promise.all(
      [a, b].map(async (store) => {
        for (let i = 0; i < 50; i++) appended.push((await store.append(event(String(i)))).cursor);
      }),
    );
    await eventually(() => seen.length, (n) => expect(n).toBe(100));
    expect(seen).toEqual((await a.read('0-0', 1000)).events.map((e) => e.cursor));
    expect(new Set(seen)).toEqual(new Set(appended));
    const withTail = await clients();
    unsubscribe();
    await eventually(clients, (n) => expect(n).toBe(withTail - 1)); // the tail's connection is closed
  });

  it('tells subscribers they lost the stream when it is started anew under them', async () => {
    const key = `test:${++keys}`;
    const store = open({ key });
    const old = await store.append(event('old'));
    const lost: unknown[] = [];
    const seen: string[] = [];
    await store.subscribe({ event: (e) => seen.push(e.data), lost: (error) => lost.push(error) });
    await admin.del(key);
    const fresh = await store.append(event('new generation'));
    expect(fresh.cursor.endsWith('-1')).toBe(true);
    // Started again within the same millisecond or not, the new log's cursors come after the old one's.
    expect(compareCursors(fresh.cursor, old.cursor)).toBeGreaterThan(0);
    await eventually(() => lost.length, (n) => expect(n).toBe(1));
    expect(seen).toEqual([]);
    // Subscribing again starts a new tail.
    await store.subscribe({ event: (e) => seen.push(e.data), lost: () => {} });
    await store.append(event('after'));
    await eventually(() => seen, (s) => expect(s).toEqual(['after']));
  });

  it('uses a client it was given and leaves it open', async () => {
    const client = new Redis(redis.url);
    const store = open({ client: client as unknown as RedisClient });
    await store.subscribe({ event: () => {}, lost: () => {} });
    await store.append(event('x'));
    await store.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('rejects bad options, and refuses work once closed', async () => {
    expect(() => redisStore({ maxLen: 0 })).toThrow(/maxLen/);
    const store = open();
    await store.close();
    await expect(store.append(event('x'))).rejects.toThrow(/closed/);
    await expect(store.subscribe({ event: () => {}, lost: () => {} })).rejects.toThrow(/closed/);
  });
});
