// disconnect(): on every server of the store (two instances on one Redis, two servers on one
// memoryStore), for requests still in admission, with filters that must name someone, on an
// instance that was cut off from Redis when it ran; and the registry of live members that tells
// who must answer.
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStore, redisStore, type EventStore, type StoreMember } from 'ssemux/server';
import { startRedis, type RedisServer } from '../../support/redis.js';
import { dataEvents, openSse, sleep, type SseResponse } from '../../conformance/sse-client.js';
import { eventually, onCleanup, startRealtime } from './helpers.js';
import { startServerProcess } from './server-process.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

type Who = { user: string; token: string };
const authenticate = (req: IncomingMessage): Who | null => {
  const [user, token] = (req.headers.authorization ?? '').split(':');
  return user && token ? { user, token } : null;
};

let keys = 0;
/** Two servers sharing one store: two instances on one Redis key, or two servers on one memoryStore. */
async function pair(kind: 'redis' | 'memory', options: { authorize?: (identity: Who, topic: string) => boolean | Promise<boolean> } = {}) {
  const key = `revocation:${++keys}`;
  const shared = kind === 'memory' ? memoryStore() : null;
  const start = async () => {
    const store: EventStore = shared ?? redisStore({ url: redis.url, key });
    const started = await startRealtime<Who>({ store, authenticate, ...options });
    onCleanup(() => store.close()); // after the server's own close
    return started;
  };
  return { a: await start(), b: await start() };
}

const as = (who: string) => ({ headers: { Authorization: who } });
const opened = (res: SseResponse) => eventually(() => res.text, (text) => expect(text).toContain('retry:'));

/** A TCP proxy to Redis that can be cut (its connections closed, new ones refused) and restored. */
async function cuttableProxy(port: number) {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = net.connect(port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cut = false;
    },
  };
}

/** Two instances on one Redis key; A reaches Redis through a proxy that the test can cut. */
async function pairWithCuttableA(storeOptions: { memberLeaseMs?: number } = {}) {
  const key = `revocation:${++keys}`;
  const proxy = await cuttableProxy(redis.port);
  const errorsOnA: unknown[] = [];
  const storeA = redisStore({ url: proxy.url, key, ...storeOptions });
  const storeB = redisStore({ url: redis.url, key, ...storeOptions });
  const a = await startRealtime<Who>({ store: storeA, authenticate, storeRetryMs: 100, onError: (error) => errorsOnA.push(error) });
  const b = await startRealtime<Who>({ store: storeB, authenticate, controlTimeoutMs: 200 });
  onCleanup(() => storeA.close());
  onCleanup(() => storeB.close());
  return { key, proxy, a, b, errorsOnA };
}

describe.each(['redis', 'memory'] as const)('disconnect() on servers that share a %s store', (kind) => {
  it('ends the matching streams and held long-polls on every server, resolves with the total, and leaves the others open', async () => {
    const { a, b } = await pair(kind);
    const aliceOnA = await openSse(`${a.url}?topic=x`, as('alice:1'));
    const aliceOnB = await openSse(`${b.url}?topic=y`, as('alice:2'));
    const alicePoll = await openSse(`${b.url}?topic=z&transport=long-poll`, as('alice:2'));
    const bobOnB = await openSse(`${b.url}?topic=x`, as('bob:3'));
    for (const res of [aliceOnA, aliceOnB, alicePoll, bobOnB]) await opened(res);

    const started = Date.now();
    expect(await a.realtime.disconnect({ user: 'alice' })).toBe(3);
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const res of [aliceOnA, aliceOnB, alicePoll]) expect(await res.settled()).toBe('ended');
    expect(bobOnB.state).toBe('open');
    const cursor = await a.realtime.publish({ topic: 'x', data: 'still here' });
    await bobOnB.until((events) => events.some((event) => event.id === cursor));

    expect(await b.realtime.disconnect({ topic: 'x' })).toBe(1);
    expect(await bobOnB.settled()).toBe('ended');
    expect(await a.realtime.disconnect({ user: 'nobody' })).toBe(0);
  });

  it('refuses a request that was still in authorize when a disconnect on another server matched it', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inAuthorize = new Promise<void>((resolve) => (entered = resolve));
    const { a, b } = await pair(kind, {
      authorize: async (identity) => {
        if (identity.user !== 'alice') return true;
        entered();
        await released;
        return true;
      },
    });
    const pending = openSse(`${b.url}?topic=t`, as('alice:1'));
    await inAuthorize;
    expect(await a.realtime.disconnect({ user: 'alice' })).toBe(0);
    release();
    const res = await pending;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    await b.realtime.publish({ topic: 't', data: 'after the disconnect' });
    await sleep(50);
    expect(res.events).toEqual([]);
    // A later request of the same user is not affected.
    const later = await openSse(`${b.url}?topic=t`, as('alice:1'));
    expect(later.status).toBe(200);
  });

  it('runs a function filter on its own server only', async () => {
    const { a, b } = await pair(kind);
    const onA = await openSse(`${a.url}?topic=t`, as('alice:1'));
    const onB = await openSse(`${b.url}?topic=t`, as('alice:1'));
    for (const res of [onA, onB]) await opened(res);
    expect(await a.realtime.disconnect((identity) => identity.token === '1')).toBe(1);
    expect(await onA.settled()).toBe('ended');
    await sleep(100);
    expect(onB.state).toBe('open');
  });
});

describe('disconnect() filters', () => {
  it('rejects with a TypeError a filter that cannot mean anyone, and ends nothing', async () => {
    const { url, realtime } = await startRealtime<Who>({ authenticate });
    const res = await openSse(`${url}?topic=t`, as('alice:1'));
    await opened(res);
    const bad: unknown[] = [{}, { user: undefined }, { topic: undefined }, { user: '' }, { user: 'half \uD83C' }, { topic: 'room/\uDC00' }, { users: 'alice' }, { user: 'alice', token: '1' }, null, 'alice'];
    for (const filter of bad) await expect(realtime.disconnect(filter as never), JSON.stringify(filter)).rejects.toThrow(TypeError);
    expect(res.state).toBe('open');
    expect(realtime.stats().openStreams).toBe(1);
  });
});

describe('the registry of live members (redisStore)', () => {
  it('drops a member whose process died once its lease ends, tells one live member, and stops waiting for it', async () => {
    const key = `members:${++keys}`;
    const dead = await startServerProcess({ redisUrl: redis.url, key, memberLeaseMs: 1_500 });
    const store = redisStore({ url: redis.url, key, memberLeaseMs: 1_500 });
    onCleanup(() => store.close());
    const gone: string[] = [];
    const watcher: StoreMember = { receive: () => 0, memberGone: (id) => gone.push(id) };
    const [one, two] = [await store.join(watcher), await store.join(watcher)];
    const members = await eventually(() => one.members(), (ids) => expect(ids).toHaveLength(3));
    const deadId = members.find((id) => id !== one.id && id !== two.id)!;
    expect((await one.broadcast({ type: 'ping' }, 2_000)).missing).toBe(0);

    await dead.kill();
    // Until its lease ends the dead member is still listed: a broadcast waits for it in vain.
    expect((await one.broadcast({ type: 'ping' }, 300)).missing).toBe(1);
    await eventually(() => gone, (ids) => expect(ids).toEqual([deadId]), 5_000);
    expect(new Set(await two.members())).toEqual(new Set([one.id, two.id]));
    const started = Date.now();
    expect(await one.broadcast({ type: 'ping' }, 2_000)).toEqual({ answers: [0], missing: 0 });
    expect(Date.now() - started).toBeLessThan(1_000);
    await sleep(600); // two more renewals of each member: no second report
    expect(gone).toEqual([deadId]);
  });

  it('tells a live member whose entry was dropped (its lease ended while Redis was out of reach) that it is listed again', async () => {
    const key = `members:${++keys}`;
    const store = redisStore({ url: redis.url, key, memberLeaseMs: 600 });
    onCleanup(() => store.close());
    let rejoined = 0;
    const membership = await store.join({ receive: () => 0, rejoined: () => void rejoined++ });
    await sleep(450); // renewals of a listed member: nothing to say
    expect(rejoined).toBe(0);
    const admin = new Redis(redis.url);
    onCleanup(async () => void admin.disconnect());
    await admin.zrem(`${key}:members`, membership.id);
    await eventually(() => rejoined, (n) => expect(n).toBe(1), 3_000);
    expect(await membership.members()).toEqual([membership.id]);
  });
});

describe('disconnect() while an instance is cut off from Redis (redisStore)', () => {
  it('ends the revoked user\'s stream on an instance whose lease ended while it was cut off, once it is back, and no other stream', async () => {
    const { key, proxy, a, b } = await pairWithCuttableA({ memberLeaseMs: 1_500 });
    const mallory = await openSse(`${a.url}?topic=t`, as('mallory:1'));
    const bob = await openSse(`${a.url}?topic=t`, as('bob:2'));
    for (const res of [mallory, bob]) await opened(res);
    const before = await b.realtime.publish({ topic: 't', data: 'before' });
    for (const res of [mallory, bob]) await res.until((events) => events.some((event) => event.id === before));

    proxy.cut();
    // B drops A from the registry once A's lease ends: its disconnect() waits for no one.
    const admin = new Redis(redis.url);
    onCleanup(async () => void admin.disconnect());
    await eventually(() => admin.zcard(`${key}:members`), (listed) => expect(listed).toBe(1), 5_000);
    expect(await b.realtime.disconnect({ user: 'mallory' })).toBe(0);
    proxy.restore();

    expect(await mallory.settled(10_000)).toBe('ended');
    const after = await b.realtime.publish({ topic: 't', data: 'after the disconnect' });
    await bob.until((events) => events.some((event) => event.id === after), 5_000);
    expect(bob.state).toBe('open'); // nothing was missed: the other streams go on
    expect(mallory.events.some((event) => event.id === after)).toBe(false);
  }, 20_000);

  it('ends every stream of an instance that was cut off while the control stream was trimmed past what it had read; they resume exactly', async () => {
    const { proxy, a, b, errorsOnA } = await pairWithCuttableA();
    const mallory = await openSse(`${a.url}?topic=t`, as('mallory:1'));
    const bob = await openSse(`${a.url}?topic=t`, as('bob:2'));
    for (const res of [mallory, bob]) await opened(res);
    const before = await b.realtime.publish({ topic: 't', data: 'before' });
    for (const res of [mallory, bob]) await res.until((events) => events.some((event) => event.id === before));

    proxy.cut(); // well within A's lease: B waits for A's answer, in vain, for controlTimeoutMs
    await b.realtime.disconnect({ user: 'mallory' });
    // More control messages than <key>:control keeps (about 1,000): the one for mallory is trimmed.
    await Promise.all(Array.from({ length: 1_300 }, (_, i) => b.realtime.disconnect({ user: `someone-${i}` })));
    const missed = await b.realtime.publish({ topic: 't', data: 'while A was cut off' });
    proxy.restore();

    for (const res of [mallory, bob]) expect(await res.settled(10_000)).toBe('ended');
    expect(mallory.events.map((event) => event.id)).not.toContain(missed);
    expect(errorsOnA.some((error) => /disconnect\(\) may have been missed/.test(String((error as Error)?.message)))).toBe(true);
    // Bob reconnects, meets authenticate again, and resumes exactly where his stream ended.
    const resumed = await eventually(
      () => openSse(`${a.url}?topic=t`, { headers: { Authorization: 'bob:2', 'Last-Event-ID': bob.lastEventId } }),
      (res) => expect(res.status).toBe(200),
    );
    const after = await b.realtime.publish({ topic: 't', data: 'after' });
    await resumed.until((events) => events.some((event) => event.id === after), 5_000);
    expect(dataEvents([...bob.events, ...resumed.events]).map((event) => event.id)).toEqual([before, missed, after]);
  }, 30_000);
});
