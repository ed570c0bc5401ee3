// Presence over the servers of one store: two servers on one memoryStore, and two instances
// (a redisStore each) on one real redis-server.
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, redisStore, type EventStore, type RealtimeServerOptions } from 'ssemux/server';
import { startRedis, type RedisServer } from '../../support/redis.js';
import { dataEvents, openSse, sleep, splitTopic, type SseEvent, type SseResponse } from '../../conformance/sse-client.js';
import { eventually, onCleanup, startRealtime } from './helpers.js';

interface PresenceData {
  members: { user: string; browsers: number }[];
  anonymous: number;
  truncated?: true;
  change?: { user: string | null; browsers: number };
}

/** The `ssemux:presence` events of a response, with their topic. */
const presenceOf = (events: SseEvent[]) =>
  events.filter((event) => event.type === 'ssemux:presence').map((event) => {
    const { topic, data } = splitTopic(event);
    return { topic, ...(JSON.parse(data) as PresenceData) };
  });
const last = (res: SseResponse, topic: string) => presenceOf(res.events).filter((p) => p.topic === topic).at(-1);
const who = (res: SseResponse, topic: string) => {
  const p = last(res, topic);
  return p && { members: p.members, anonymous: p.anonymous };
};

/** `Authorization: <user>` (URI-encoded) names the user; without it, anonymous. */
const authenticate = (req: IncomingMessage) => (req.headers.authorization ? decodeURIComponent(req.headers.authorization) : {});
const as = (user?: string): RequestInit => (user ? { headers: { Authorization: encodeURIComponent(user) } } : {});

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

let keys = 0;
const stores: Record<string, () => { first: EventStore; second: EventStore }> = {
  memoryStore: () => {
    const store = memoryStore();
    onCleanup(() => store.close());
    return { first: store, second: store };
  },
  redisStore: () => {
    const key = `presence:${++keys}`;
    const first = redisStore({ url: redis.url, key, memberLeaseMs: 1_500 });
    const second = redisStore({ url: redis.url, key, memberLeaseMs: 1_500 });
    onCleanup(async () => {
      await first.close();
      await second.close();
    });
    return { first, second };
  },
};

for (const [name, open] of Object.entries(stores)) {
  describe(`presence on ${name}`, () => {
    /** Two servers on one store (both closed before the store). */
    async function twoServers(options: RealtimeServerOptions = {}) {
      const { first, second } = open();
      const settings = { authenticate, presenceGraceMs: 300, ...options };
      const a = await startRealtime({ store: first, ...settings });
      const b = await startRealtime({ store: second, ...settings });
      // Each has joined and heard the other before the test counts on it.
      await a.realtime.presence('warm-up');
      await b.realtime.presence('warm-up');
      return { a, b };
    }
    const watch = async (url: string, topics: string[], user?: string, extra = '') => {
      const query = topics.map((topic) => `topic=${encodeURIComponent(topic)}`).join('&');
      const res = await openSse(`${url}?${query}&presence=1${extra}`, as(user));
      await res.until((events) => presenceOf(events).length >= topics.length, 5_000);
      return res;
    };

    it('starts a stream with who reads each topic, itself included, then tells each change', async () => {
      const { a } = await twoServers();
      const alice = await watch(a.url, ['room', 'hall'], 'alice');
      expect(presenceOf(alice.events)).toEqual([
        { topic: 'room', members: [{ user: 'alice', browsers: 1 }], anonymous: 0 },
        { topic: 'hall', members: [{ user: 'alice', browsers: 1 }], anonymous: 0 },
      ]);
      const bob = await watch(a.url, ['room'], 'bob');
      expect(presenceOf(bob.events)).toEqual([{ topic: 'room', members: [{ user: 'alice', browsers: 1 }, { user: 'bob', browsers: 1 }], anonymous: 0 }]);
      await alice.until((events) => presenceOf(events).length === 3);
      expect(presenceOf(alice.events)[2]).toEqual({
        topic: 'room',
        members: [{ user: 'alice', browsers: 1 }, { user: 'bob', browsers: 1 }],
        anonymous: 0,
        change: { user: 'bob', browsers: 1 },
      });
      // No event for the topic bob does not read.
      await sleep(300);
      expect(presenceOf(alice.events)).toHaveLength(3);
    });

    it('counts one identity over both servers, per connection (browser), and tells the other server', async () => {
      const { a, b } = await twoServers();
      const onA = await watch(a.url, ['room'], 'alice');
      const onB = await watch(b.url, ['room'], 'alice');
      // Each server hears the other's count within a batch window.
      await onB.until(() => last(onB, 'room')?.members[0]?.browsers === 2);
      await onA.until(() => last(onA, 'room')?.change?.browsers === 2);
      expect(last(onA, 'room')).toMatchObject({ members: [{ user: 'alice', browsers: 2 }], change: { user: 'alice', browsers: 2 } });
      expect(await a.realtime.presence('room')).toEqual({ members: [{ user: 'alice', browsers: 2 }], anonymous: 0 });
      expect(await b.realtime.presence('room')).toEqual({ members: [{ user: 'alice', browsers: 2 }], anonymous: 0 });
      expect(await b.realtime.presence('elsewhere')).toEqual({ members: [], anonymous: 0 });
    });

    it('does not report a leave for a connection that comes back within the grace, on either server', async () => {
      const { a, b } = await twoServers({ presenceGraceMs: 1_000 });
      const watcher = await watch(a.url, ['room'], 'watcher');
      const alice = await watch(a.url, ['room'], 'alice');
      await watcher.until(() => last(watcher, 'room')?.change?.user === 'alice');
      const seen = presenceOf(watcher.events).length;
      alice.abort();
      await sleep(200);
      // It comes back on the other server (a deploy, a load balancer).
      const again = await watch(b.url, ['room'], 'alice');
      expect(who(again, 'room')).toEqual({ members: [{ user: 'alice', browsers: 1 }, { user: 'watcher', browsers: 1 }], anonymous: 0 });
      await sleep(1_500);
      expect(presenceOf(watcher.events).slice(seen)).toEqual([]);
      expect(await a.realtime.presence('room')).toEqual({ members: [{ user: 'alice', browsers: 1 }, { user: 'watcher', browsers: 1 }], anonymous: 0 });
    });

    it('reports a leave once the grace has passed without a reconnect', async () => {
      const { a, b } = await twoServers({ presenceGraceMs: 500 });
      const watcher = await watch(a.url, ['room'], 'watcher');
      const alice = await watch(b.url, ['room'], 'alice');
      await watcher.until(() => last(watcher, 'room')?.change?.user === 'alice');
      const left = Date.now();
      alice.abort();
      await watcher.until(() => last(watcher, 'room')?.change?.browsers === 0, 5_000);
      expect(Date.now() - left).toBeGreaterThanOrEqual(450);
      expect(last(watcher, 'room')).toEqual({ topic: 'room', members: [{ user: 'watcher', browsers: 1 }], anonymous: 0, change: { user: 'alice', browsers: 0 } });
      expect(await b.realtime.presence('room')).toEqual({ members: [{ user: 'watcher', browsers: 1 }], anonymous: 0 });
    });

    it('counts anonymous connections apart, with a null user in their change', async () => {
      const { a, b } = await twoServers();
      const first = await watch(a.url, ['room']);
      expect(who(first, 'room')).toEqual({ members: [], anonymous: 1 });
      await watch(b.url, ['room']);
      await first.until(() => last(first, 'room')?.anonymous === 2);
      expect(last(first, 'room')).toEqual({ topic: 'room', members: [], anonymous: 2, change: { user: null, browsers: 2 } });
      expect(await a.realtime.presence('room')).toEqual({ members: [], anonymous: 2 });
    });

    it('lists at most maxPresenceMembers, the first by user, and says it truncated; presence() lists them all', async () => {
      const { a, b } = await twoServers({ maxPresenceMembers: 2 });
      for (const user of ['dora', 'bob']) await watch(b.url, ['room'], user);
      await eventually(() => a.realtime.presence('room'), (p) => expect(p.members).toHaveLength(2));
      const carl = await watch(a.url, ['room'], 'carl');
      expect(last(carl, 'room')).toEqual({ topic: 'room', members: [{ user: 'bob', browsers: 1 }, { user: 'carl', browsers: 1 }], anonymous: 0, truncated: true });
      expect((await a.realtime.presence('room')).members.map((m) => m.user)).toEqual(['bob', 'carl', 'dora']);
    });

    it('sorts members by code point', async () => {
      const { a } = await twoServers();
      for (const user of ['\u{1F600}', '\uFB01', 'b', 'B']) await watch(a.url, ['room'], user);
      expect((await a.realtime.presence('room')).members.map((m) => m.user)).toEqual(['B', 'b', '\uFB01', '\u{1F600}']);
    });

    it('writes the snapshot after ssemux:denied and the replay, before live events', async () => {
      const { a } = await twoServers({ authorize: (_user, topic) => topic !== 'secret' });
      const replayed = await a.realtime.publish({ topic: 'room', data: 'old' });
      await a.realtime.publish({ topic: 'other', data: 'x' });
      const res = await openSse(`${a.url}?topic=room&topic=secret&presence=1`, { headers: { Authorization: 'alice', 'Last-Event-ID': '0-0' } });
      await res.until((events) => presenceOf(events).length === 1);
      const live = await a.realtime.publish({ topic: 'room', data: 'new' });
      await res.until((events) => dataEvents(events).length === 2);
      expect(res.events.map((event) => [event.type, event.id])).toEqual([
        ['ssemux:denied', ''],
        ['message', replayed],
        ['ssemux:presence', replayed],
        ['message', live],
      ]);
      // No id: line: the event leaves the position where it was.
      expect(res.text).toContain('\n\nevent: ssemux:presence\ndata: room\ndata: {"members":[{"user":"alice","browsers":1}],"anonymous":0}\n\n');
    });

    it('ends each long-poll answer with the presence of its topics, and writes no change events', async () => {
      const { a } = await twoServers();
      const poll = await openSse(`${a.url}?topic=room&topic=hall&presence=1&transport=long-poll`, as('alice'));
      await sleep(100);
      await watch(a.url, ['room'], 'bob');
      const sent = await a.realtime.publish({ topic: 'room', data: 'x' });
      expect(await poll.settled(5_000)).toBe('ended');
      expect(poll.events.map((event) => event.type)).toEqual(['message', 'ssemux:presence', 'ssemux:presence']);
      expect(poll.events[0]!.id).toBe(sent);
      expect(presenceOf(poll.events)).toEqual([
        { topic: 'room', members: [{ user: 'alice', browsers: 1 }, { user: 'bob', browsers: 1 }], anonymous: 0 },
        { topic: 'hall', members: [{ user: 'alice', browsers: 1 }], anonymous: 0 },
      ]);
    });

    it('takes presence=1 from the query of a POST that names its topics in the body', async () => {
      const { a } = await twoServers();
      const res = await openSse(`${a.url}?presence=1`, {
        method: 'POST',
        headers: { Authorization: 'alice', 'Content-Type': 'application/json' },
        body: JSON.stringify({ topics: ['room', 'hall'] }),
      });
      await res.until((events) => presenceOf(events).length === 2);
      expect(presenceOf(res.events).map((p) => p.topic)).toEqual(['room', 'hall']);
    });

    it('sends no presence to a connection that did not ask, nor to a plain connection', async () => {
      const { a } = await twoServers();
      const silent = await openSse(`${a.url}?topic=room`, as('carl'));
      const plain = await openSse(`${a.url}?presence=1`, as('dora'));
      await watch(a.url, ['room', 'main'], 'alice');
      const sent = await a.realtime.publish({ topic: 'room', data: 'x' });
      await a.realtime.publish({ topic: 'main', data: 'y' });
      await silent.until((events) => events.some((event) => event.id === sent));
      await plain.until((events) => events.length === 1);
      await sleep(300);
      expect(silent.events.map((event) => event.type)).toEqual(['message']);
      expect(plain.events.map((event) => event.type)).toEqual(['message']);
      // Both are counted all the same.
      expect(await a.realtime.presence('room')).toEqual({ members: [{ user: 'alice', browsers: 1 }, { user: 'carl', browsers: 1 }], anonymous: 0 });
      expect(await a.realtime.presence('main')).toEqual({ members: [{ user: 'alice', browsers: 1 }, { user: 'dora', browsers: 1 }], anonymous: 0 });
    });

    it('takes a closed server\'s connections back at once, held by the others for the grace', async () => {
      const { a, b } = await twoServers({ presenceGraceMs: 400 });
      const watcher = await watch(a.url, ['room'], 'watcher');
      await watch(b.url, ['room'], 'alice');
      await watcher.until(() => last(watcher, 'room')?.change?.user === 'alice');
      const closing = Date.now();
      await b.realtime.close();
      await watcher.until(() => last(watcher, 'room')?.change?.browsers === 0, 5_000);
      const took = Date.now() - closing;
      expect(took).toBeGreaterThanOrEqual(350);
      expect(took).toBeLessThan(3_000);
    });
  });
}

describe('presence: the grace after a fall', () => {
  it('a rise that stays below the count shown does not postpone the fall (browsers that left are not kept on show)', async () => {
    const graceMs = 1_500;
    const { url, realtime } = await startRealtime({ authenticate: () => 'alice', presenceGraceMs: graceMs, presenceBatchMs: 10 });
    const open = () => openSse(`${url}?topic=room`);
    const [one, two] = [await open(), await open(), await open()];
    await eventually(() => realtime.presence('room'), (p) => expect(p.members).toEqual([{ user: 'alice', browsers: 3 }]));
    one!.abort();
    two!.abort();
    // The last fall, as the server saw it.
    await eventually(() => realtime.stats().openStreams, (n) => expect(n).toBe(1));
    const fell = performance.now();
    await sleep(graceMs / 2);
    await open(); // back to 2, below the 3 on show
    await eventually(() => realtime.stats().openStreams, (n) => expect(n).toBe(2));
    // Shown at the grace after the fall; postponed, it would be at the grace after the rise.
    await eventually(() => realtime.presence('room'), (p) => expect(p.members).toEqual([{ user: 'alice', browsers: 2 }]), graceMs * 2);
    expect(performance.now() - fell).toBeLessThan(graceMs * 1.35);
  });
});

describe('presence off', () => {
  it('writes no presence events and presence() rejects', async () => {
    const { url, realtime } = await startRealtime({ authenticate, presence: false });
    const res = await openSse(`${url}?topic=room&presence=1`, as('alice'));
    const sent = await realtime.publish({ topic: 'room', data: 'x' });
    await res.until((events) => events.some((event) => event.id === sent));
    expect(res.events.map((event) => event.type)).toEqual(['message']);
    await expect(realtime.presence('room')).rejects.toThrow(/presence: false/);
  });

  it('is checked as an option', async () => {
    await expect(startRealtime({ presence: 'yes' as never })).rejects.toThrow(/presence must be a boolean/);
    await expect(startRealtime({ presenceGraceMs: -1 })).rejects.toThrow(/presenceGraceMs/);
    await expect(startRealtime({ maxPresenceMembers: 0 })).rejects.toThrow(/maxPresenceMembers/);
  });
});
