// redisStore against a real redis-server: cursors, exact resets under trimming, the tail, a
// Redis that comes back from an older snapshot.
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
const generationOf = (cursor: string) => cursor.split('-')[0]!;
/** Redis's clock, in ms. */
const redisMs = async () => {
  const [seconds, micros] = await admin.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
};

/**
 * Takes a snapshot of the log `key` now; the function it gives puts Redis back to it and drops
 * every connection: a Redis restarted from an older RDB file, or an AOF written `everysec`.
 */
async function snapshot(key: string): Promise<() => Promise<void>> {
  const names = [key, `${key}:generation`];
  const dumps = await Promise.all(names.map((name) => admin.dumpBuffer(name)));
  return async () => {
    for (const [i, name] of names.entries()) await admin.restore(name, 0, dumps[i]!, 'REPLACE');
    await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
  };
}

/** Calls `command` until it succeeds: a store whose connection was just dropped fails a command sent meanwhile. */
async function onceBack<T>(command: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await command();
    } catch (error) {
      if (attempt === 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('redisStore', () => {
  it('numbers entries <redis time ms><6 random digits>-1, -2, … and stores topic, type, data and user', async () => {
    const key = `test:${++keys}`;
    const one = open({ key });
    const two = open({ key });
    const before = Date.now();
    const a = await one.append({ topic: 'news', type: 'created', data: 'line 1\nline 2', user: 'ann' });
    const b = await two.append(event(''));
    const [generation, n] = a.cursor.split('-') as [string, string];
    expect(generation).toMatch(/^[1-9]\d{18}$/);
    expect(Number(generation.slice(0, -6))).toBeGreaterThanOrEqual(before - 1_000);
    expect(Number(generation.slice(0, -6))).toBeLessThanOrEqual(Date.now() + 1_000);
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

  it('gives two logs started in the same millisecond generations of their own: a cursor of one is unknown to the other', async () => {
    // Two keys on one Redis (two tenants, staging and production), their first events published
    // together, until both logs start within one millisecond of Redis's clock.
    let pair: { a: EventStore; b: EventStore; firstOfA: StoredEvent; firstOfB: StoredEvent } | null = null;
    for (let attempt = 0; attempt < 100 && !pair; attempt++) {
      const [a, b] = [open(), open()];
      await Promise.all([a.head(), b.head()]); // connections open, as in a running application
      const started = await redisMs();
      const [firstOfA, firstOfB] = await Promise.all([a.append(event('a1')), b.append(event('b1'))]);
      if ((await redisMs()) === started) pair = { a, b, firstOfA, firstOfB };
    }
    expect(pair, 'two logs started within one millisecond').not.toBeNull();
    const { a, b, firstOfA, firstOfB } = pair!;
    const eventsOfA = [firstOfA, await a.append(event('a2')), await a.append(event('a3'))];
    expect(await a.read(firstOfB.cursor, 10)).toEqual({ reset: { reason: 'unknown-cursor', cursor: `${generationOf(firstOfA.cursor)}-0` }, events: eventsOfA });
    expect((await b.read(eventsOfA[1]!.cursor, 10)).reset?.reason).toBe('unknown-cursor');
    expect(generationOf(firstOfA.cursor)).not.toBe(generationOf(firstOfB.cursor));
  });

  it('never hands out a cursor again when Redis comes back from an older snapshot: every cursor from before gets unknown-cursor', async () => {
    const key = `test:${++keys}`;
    const store = open({ key });
    const before: StoredEvent[] = [];
    for (let i = 1; i <= 3; i++) before.push(await store.append(event(`old ${i}`)));
    const restartFromSnapshot = await snapshot(key);
    for (let i = 4; i <= 6; i++) before.push(await store.append(event(`old ${i}`)));
    // A client read up to event 6, then went away; Redis comes back with events 1 to 3 only.
    await restartFromSnapshot();
    const after: StoredEvent[] = [];
    for (let i = 1; i <= 3; i++) after.push(await onceBack(() => store.append(event(`new ${i}`))));
    const generation = generationOf(after[0]!.cursor);
    for (const cursor of [before[5]!.cursor, before[3]!.cursor, before[1]!.cursor]) {
      expect(await store.read(cursor, 10), cursor).toEqual({ reset: { reason: 'unknown-cursor', cursor: `${generation}-0` }, events: after });
    }
    // The new events come after every cursor handed out before, in a generation of their own.
    expect(compareCursors(after[0]!.cursor, before[5]!.cursor)).toBeGreaterThan(0);
    expect(after.map((one) => one.cursor)).toEqual([1, 2, 3].map((n) => `${generation}-${n}`));
  });

  it('after Redis comes back from an older snapshot, a new instance publishing first starts a new generation too, and only one', async () => {
    const key = `test:${++keys}`;
    const [a, b] = [open({ key }), open({ key })];
    const lost: unknown[] = [];
    const seen = [0, 0];
    for (const [i, store] of [a, b].entries()) {
      await store.subscribe({ event: () => seen[i]!++, lost: (error) => lost.push(error) });
    }
    const before: StoredEvent[] = [];
    for (let i = 1; i <= 3; i++) before.push(await a.append(event(`old ${i}`)));
    const restartFromSnapshot = await snapshot(key);
    for (let i = 4; i <= 6; i++) before.push(await a.append(event(`old ${i}`)));
    await eventually(() => seen, (counts) => expect(counts).toEqual([6, 6]));
    await restartFromSnapshot();
    // Both instances reconnect, find the log behind what they saw, and end their streams.
    await eventually(() => lost.length, (n) => expect(n).toBe(2));
    // An instance started after the restart never saw events 4 to 6; it publishes first.
    const c = open({ key });
    const after = [await c.append(event('new 1')), await onceBack(() => a.append(event('new 2'))), await onceBack(() => b.append(event('new 3')))];
    const generation = generationOf(after[0]!.cursor);
    expect(await c.read(before[5]!.cursor, 10)).toEqual({ reset: { reason: 'unknown-cursor', cursor: `${generation}-0` }, events: after });
    // One generation, though both instances noticed; its cursors come after every old one.
    expect(after.map((one) => one.cursor)).toEqual([1, 2, 3].map((n) => `${generation}-${n}`));
    expect(compareCursors(after[0]!.cursor, before[5]!.cursor)).toBeGreaterThan(0);
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
