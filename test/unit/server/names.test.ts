// Names that UTF-8 cannot carry (a lone surrogate, half an emoji) are refused the same way on
// both stores, so that no store can merge two topics or two users into one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, redisStore, type EventStore } from 'ssemux/server';
import { startRedis, type RedisServer } from '../../support/redis.js';
import { openSse, sleep } from '../../conformance/sse-client.js';
import { eventually, onCleanup, startRealtime } from './helpers.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

let keys = 0;
const stores: Record<'memory' | 'redis', () => EventStore> = {
  memory: () => memoryStore(),
  redis: () => redisStore({ url: redis.url, key: `names:${++keys}` }),
};

describe.each(['memory', 'redis'] as const)('names on a %s store', (kind) => {
  it('publish() rejects an ill-formed topic or user with a TypeError, and stores nothing', async () => {
    const store = stores[kind]();
    onCleanup(() => store.close());
    const { realtime } = await startRealtime({ store });
    const start = await store.head();
    for (const event of [{ topic: 'room/\uD800' }, { topic: 'room/\uDC00' }, { topic: 'x', user: '\uD83C' }, { topic: 'x', user: 'ann\uDE00' }]) {
      await expect(realtime.publish({ ...event, data: 'x' }), JSON.stringify(event)).rejects.toThrow(TypeError);
    }
    expect((await store.read(start, 10)).events).toEqual([]);
    expect(realtime.stats().eventsPublished).toBe(0);
  });

  it('delivers per topic and user exactly for names of U+FFFD and of an emoji', async () => {
    const store = stores[kind]();
    onCleanup(() => store.close());
    const { url, realtime } = await startRealtime({ store, authenticate: (req) => decodeURIComponent(String(req.headers['x-user'])) });
    const as = (user: string, topic: string) => openSse(`${url}?topic=${encodeURIComponent(topic)}`, { headers: { 'X-User': encodeURIComponent(user) } });
    const replacement = await as('\uFFFD', 'room/\uFFFD');
    const emoji = await as('\u{1F600}', 'room/\u{1F600}');
    for (const res of [replacement, emoji]) await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    const forEmoji = await realtime.publish({ topic: 'room/\u{1F600}', data: 'e', user: '\u{1F600}' });
    const forReplacement = await realtime.publish({ topic: 'room/\uFFFD', data: 'r', user: '\uFFFD' });
    await emoji.until((events) => events.length === 1);
    await replacement.until((events) => events.length === 1);
    await sleep(50);
    expect(emoji.events.map((event) => event.id)).toEqual([forEmoji]);
    expect(replacement.events.map((event) => event.id)).toEqual([forReplacement]);
  });
});
