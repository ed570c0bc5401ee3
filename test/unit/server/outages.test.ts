// A real redis-server killed (SIGKILL) and started again under a running server: publish()
// fails within its bound, onError hears the outage once and the recovery once, open streams go
// on exactly when the log survived and resume with a reset when it did not, and publishes land
// in call order.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { PublishError, redisStore, StoreOutageError } from 'ssemux/server';
import { startRedis, type RedisServer } from '../../support/redis.js';
import { dataEvents, openSse, sleep, type SseResponse } from '../../conformance/sse-client.js';
import { eventually, onCleanup, startRealtime } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A redis-server that keeps every acknowledged write across a kill, when `durable`. */
async function redisServer(durable: boolean): Promise<{ current: RedisServer; restart(): Promise<void>; kill(): Promise<void> }> {
  const dataDir = durable ? mkdtempSync(join(tmpdir(), 'ssemux-redis-')) : undefined;
  if (dataDir) dirs.push(dataDir);
  const state = { current: await startRedis({ dataDir }) };
  onCleanup(() => state.current.stop());
  return {
    get current() {
      return state.current;
    },
    async kill() {
      await state.current.kill();
    },
    async restart() {
      state.current = await startRedis({ port: state.current.port, dataDir });
    },
  };
}

let keys = 0;
async function serverOn(redis: { current: RedisServer }, options: { maxPendingPublishes?: number } = {}) {
  const errors: unknown[] = [];
  const store = redisStore({ url: redis.current.url, key: `outage:${++keys}`, commandTimeoutMs: 1_000 });
  const started = await startRealtime({ store, publishTimeoutMs: 1_500, storeRetryMs: 200, onError: (error) => errors.push(error), ...options });
  onCleanup(() => store.close());
  const outages = () => errors.filter((error): error is StoreOutageError => error instanceof StoreOutageError).map((error) => error.available);
  return { ...started, errors, outages };
}

const opened = (res: SseResponse) => eventually(() => res.text, (text) => expect(text).toContain('retry:'));
const ids = (res: SseResponse) => dataEvents(res.events).map((event) => event.id);

describe('a Redis outage', () => {
  it('fails publish() within publishTimeoutMs, answers 503 meanwhile, tells onError once each way, and open streams go on exactly', async () => {
    const redis = await redisServer(true);
    const { url, realtime, outages } = await serverOn(redis);
    const stream = await openSse(`${url}?topic=t`);
    await opened(stream);
    const before = [];
    for (let i = 0; i < 5; i++) before.push(await realtime.publish({ topic: 't', data: `before ${i}` }));
    await stream.until((events) => events.length === 5);

    await redis.kill();
    const started = Date.now();
    const failed = await realtime.publish({ topic: 't', data: 'during' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(PublishError);
    expect(Date.now() - started).toBeLessThan(1_500 + 1_000);
    await eventually(outages, (seen) => expect(seen).toEqual([false]));
    const refused = await fetch(`${url}?topic=t`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    await refused.body?.cancel();
    await sleep(500); // more failed attempts to subscribe: still one notice
    expect(outages()).toEqual([false]);

    await redis.restart();
    await eventually(outages, (seen) => expect(seen).toEqual([false, true]), 15_000);
    const after = [];
    for (let i = 0; i < 5; i++) after.push(await realtime.publish({ topic: 't', data: `after ${i}` }));
    await stream.until((events) => events.length === 10, 5_000);
    expect(ids(stream)).toEqual([...before, ...after]);
    expect(stream.state).toBe('open');
    const fresh = await openSse(`${url}?topic=t`, { headers: { 'Last-Event-ID': before[2]! } });
    await fresh.until((events) => events.length === 7);
    expect(ids(fresh)).toEqual([...before.slice(3), ...after]);
  });

  it('ends open streams when Redis comes back without the log, and they resume with ssemux:reset', async () => {
    const redis = await redisServer(false);
    const { url, realtime, outages } = await serverOn(redis);
    const stream = await openSse(`${url}?topic=t`);
    await opened(stream);
    const old = await realtime.publish({ topic: 't', data: 'old' });
    await stream.until((events) => events.length === 1);
    await redis.kill();
    await eventually(outages, (seen) => expect(seen).toEqual([false]));
    await redis.restart();
    expect(await stream.settled(15_000)).toBe('ended');
    await eventually(outages, (seen) => expect(seen).toEqual([false, true]), 15_000);
    const fresh = await realtime.publish({ topic: 't', data: 'new log' });
    const resumed = await openSse(`${url}?topic=t`, { headers: { 'Last-Event-ID': stream.lastEventId } });
    await resumed.until((events) => events.length === 2);
    expect(stream.lastEventId).toBe(old);
    expect(resumed.events[0]).toMatchObject({ type: 'ssemux:reset', data: JSON.stringify({ from: old, reason: 'unknown-cursor' }) });
    expect(resumed.events[1]!.id).toBe(fresh);
  });

  it('stores publishes in call order across the outage, awaited or not; each one settles, and never lands behind a later one', async () => {
    const redis = await redisServer(true);
    const { realtime } = await serverOn(redis);
    const settled: Array<Promise<string | null>> = [];
    const fulfilled = new Map<number, string>();
    let n = 0;
    const publishing = (async () => {
      for (; n < 600; n++) {
        const i = n;
        const one = realtime.publish({ topic: 't', data: String(i) }).then(
          (cursor) => (fulfilled.set(i, cursor), cursor),
          () => null,
        );
        settled.push(one);
        // Every third one awaited, the others fired and forgotten.
        if (i % 3 === 0) await one;
        await sleep(2);
      }
    })();
    while (n < 150) await sleep(5);
    await redis.kill();
    // Longer than a publish waits for Redis to come back (commandTimeoutMs 1 s): some fail.
    await sleep(2_000);
    await redis.restart();
    await publishing;
    const started = Date.now();
    await Promise.all(settled);
    expect(Date.now() - started).toBeLessThan(1_500 + 1_000);

    const admin = new Redis(redis.current.url);
    onCleanup(async () => void admin.disconnect());
    const log = (await admin.xrange(`outage:${keys}`, '-', '+')).map(([cursor, fields]) => ({ cursor, data: Number(fields[fields.indexOf('d') + 1]) }));
    const order = log.map((entry) => entry.data);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(order.length);
    for (const [i, cursor] of fulfilled) expect(log.find((entry) => entry.cursor === cursor)?.data).toBe(i);
    expect(fulfilled.size).toBeGreaterThan(300);
    expect(fulfilled.size).toBeLessThan(600); // some failed during the outage
  });

  it('rejects at once past maxPendingPublishes instead of queueing without end', async () => {
    const redis = await redisServer(false);
    const { realtime } = await serverOn(redis, { maxPendingPublishes: 50 });
    await realtime.publish({ topic: 't', data: 'warm' });
    await redis.kill();
    const outcomes = await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        realtime.publish({ topic: 't', data: String(i) }).then(
          () => 'stored',
          (error: PublishError) => error.reason,
        ),
      ),
    );
    expect(outcomes.filter((reason) => reason === 'too-many-pending')).toHaveLength(30);
    expect(outcomes.slice(0, 50).every((reason) => reason === 'timeout' || reason === 'store-failed')).toBe(true);
  });
});

describe('a Redis the store cannot use', () => {
  it('with a wrong password: answers 503 and tells onError why (WRONGPASS), not only that Redis did not answer', async () => {
    const redis = await startRedis({ password: 'right' });
    onCleanup(() => redis.stop());
    const errors: unknown[] = [];
    const store = redisStore({ url: redis.url.replace('redis://', 'redis://:wrong@'), key: 'wrong-password', commandTimeoutMs: 1_000 });
    onCleanup(() => store.close());
    const { url } = await startRealtime({ store, storeRetryMs: 200, onError: (error) => errors.push(error) });
    const res = await fetch(`${url}?topic=t`);
    expect(res.status).toBe(503);
    await res.body?.cancel();
    const chain = (error: unknown): string[] => (error instanceof Error ? [error.message, ...chain(error.cause)] : []);
    await eventually(() => errors.flatMap(chain).join('\n'), (text) => expect(text).toMatch(/WRONGPASS/));
  });
});
