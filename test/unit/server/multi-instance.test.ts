// Two servers with a redisStore each (as two processes would have) on one redis-server.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from 'ssemux/server';
import { compareCursors } from '../../../src/protocol/wire.js';
import { startRedis, type RedisServer } from '../../support/redis.js';
import { dataEvents, openSse, sleep } from '../../conformance/sse-client.js';
import { eventually, onCleanup, startRealtime } from './helpers.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

let keys = 0;
async function twoInstances(options: { authenticate?: (req: import('node:http').IncomingMessage) => string | null } = {}) {
  const key = `multi:${++keys}`;
  const start = async () => {
    const store = redisStore({ url: redis.url, key });
    const instance = await startRealtime({ store, ...options });
    onCleanup(() => store.close()); // runs after the server's own close
    return instance;
  };
  return { key, a: await start(), b: await start() };
}

describe('several instances on one Redis', () => {
  it('delivers an event published on one instance to the subscribers of the other, per user too', async () => {
    const { a, b } = await twoInstances({ authenticate: (req) => req.headers.authorization ?? null });
    const ann = await openSse(`${b.url}?topic=t`, { headers: { Authorization: 'ann' } });
    const bob = await openSse(`${b.url}?topic=t`, { headers: { Authorization: 'bob' } });
    for (const res of [ann, bob]) await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    const forAnn = await a.realtime.publish({ topic: 't', data: 'ann only', user: 'ann' });
    const forAll = await a.realtime.publish({ topic: 't', data: 'everyone' });
    await ann.until((e) => e.length === 2);
    await bob.until((e) => e.length === 1);
    expect(ann.events.map((e) => e.id)).toEqual([forAnn, forAll]);
    expect(bob.events.map((e) => e.id)).toEqual([forAll]);
  });

  it('resumes on the other instance from a cursor the first one gave', async () => {
    const { a, b } = await twoInstances();
    const onA = await openSse(`${a.url}?topic=t`);
    await eventually(() => onA.text, (text) => expect(text).toContain('retry:'));
    const first = await a.realtime.publish({ topic: 't', data: '1' });
    await onA.until((e) => e.length === 1);
    onA.abort();
    const missed = [await a.realtime.publish({ topic: 't', data: '2' }), await b.realtime.publish({ topic: 't', data: '3' })];
    const onB = await openSse(`${b.url}?topic=t`, { headers: { 'Last-Event-ID': onA.lastEventId } });
    await onB.until((e) => e.length === 2);
    const live = await a.realtime.publish({ topic: 't', data: '4' });
    await onB.until((e) => e.length === 3);
    expect(onA.lastEventId).toBe(first);
    expect(onB.events.map((e) => e.id)).toEqual([...missed, live]);
  });

  it('stitches replay and live exactly while both instances publish', async () => {
    const { a, b } = await twoInstances();
    const published: string[] = [];
    let publishing = true;
    const publishers = [a, b].map(async (instance, n) => {
      for (let i = 0; publishing || i < 20; i++) {
        published.push(await instance.realtime.publish({ topic: 't', data: `${n}:${i}` }));
        await sleep(1);
      }
    });
    while (published.length < 40) await sleep(1);
    const from = published[10]!;
    const resumed = [await openSse(`${a.url}?topic=t`, { headers: { 'Last-Event-ID': from } }), await openSse(`${b.url}?topic=t`, { headers: { 'Last-Event-ID': from } })];
    await sleep(100);
    publishing = false;
    await Promise.all(publishers);
    expect(published.length).toBeGreaterThan(40);
    // The log's order is the cursors' order, whichever instance appended.
    const expected = published.filter((cursor) => compareCursors(cursor, from) > 0).sort(compareCursors);
    const store = redisStore({ url: redis.url, key: `multi:${keys}` });
    onCleanup(() => store.close());
    expect((await store.read(from, 10_000)).events.map((e) => e.cursor)).toEqual(expected);
    for (const res of resumed) {
      await res.until((e) => dataEvents(e).length === expected.length, 10_000);
      await sleep(30);
      expect(res.events.map((e) => e.id)).toEqual(expected);
    }
  });

  it('ends the streams when the log is started anew, and they resume with a reset', async () => {
    const { key, a, b } = await twoInstances();
    const old = await a.realtime.publish({ topic: 't', data: 'old' });
    const res = await openSse(`${b.url}?topic=t`, { headers: { 'Last-Event-ID': old } });
    await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    const admin = new Redis(redis.url);
    await admin.del(key);
    admin.disconnect();
    const fresh = await a.realtime.publish({ topic: 't', data: 'new log' });
    expect(await res.settled()).toBe('ended');
    const resumed = await openSse(`${b.url}?topic=t`, { headers: { 'Last-Event-ID': res.lastEventId || old } });
    await resumed.until((e) => e.length === 2);
    expect(resumed.events[0]).toMatchObject({ type: 'ssemux:reset', data: JSON.stringify({ from: old, reason: 'unknown-cursor' }) });
    expect(resumed.events[1]!.id).toBe(fresh);
  });
});
