// Real processes: demo-server instances (node demo-server/cli.js, on ssemux/server from dist/)
// sharing one redis-server, killed with SIGKILL mid-stream, directly and behind the
// round-robin proxy of test/support/cluster.js.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureServerBuild, startCluster, startInstance, type Instance } from '../../support/cluster.js';
import { startRedis, type RedisServer } from '../../support/redis.js';
import { dataEvents, openSse, sleep, type SseResponse } from '../../conformance/sse-client.js';
import { onCleanup } from './helpers.js';

let redis: RedisServer;
beforeAll(async () => {
  ensureServerBuild();
  redis = await startRedis();
}, 120_000);
afterAll(() => redis?.stop());

async function publish(base: string, data: string): Promise<string> {
  const res = await fetch(`${base}/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'orders', data }) });
  if (res.status !== 200) throw new Error(`publish: ${res.status}`);
  return ((await res.json()) as { id: string }).id;
}

const ids = (res: SseResponse) => dataEvents(res.events).map((event) => event.id);
const waitOpen = async (res: SseResponse) => {
  for (let i = 0; i < 300 && !res.text.includes('retry:'); i++) await sleep(10);
};

async function kill(instance: Instance) {
  const exited = new Promise((resolve) => instance.child.once('exit', resolve));
  instance.child.kill('SIGKILL');
  await exited;
}

describe('server processes on one Redis', () => {
  it('loses nothing for a client whose server is SIGKILLed mid-stream and that resumes on another instance', async () => {
    const a = await startInstance({ REDIS_URL: redis.url });
    const b = await startInstance({ REDIS_URL: redis.url });
    onCleanup(async () => {
      for (const instance of [a, b]) if (instance.alive) await kill(instance);
    });
    const first = await openSse(`${a.url}/events?topic=orders`);
    await waitOpen(first);

    const published: string[] = [];
    let publishing = true;
    // Both instances append until just before the kill (a publish whose answer the kill cut off
    // would be in the log but not in `published`); b goes on throughout.
    let viaA = true;
    let lastViaA: Promise<unknown> = Promise.resolve();
    const publisher = (async () => {
      for (let i = 0; publishing; i++) {
        const pending = publish(viaA && i % 2 ? a.url : b.url, String(i));
        if (viaA && i % 2) lastViaA = pending;
        published.push(await pending);
        await sleep(2);
      }
    })();
    while (ids(first).length < 30) await sleep(5);
    viaA = false;
    await lastViaA;
    await kill(a);
    expect(await first.settled()).toBe('failed');
    const resumed = await openSse(`${b.url}/events?topic=orders`, { headers: { 'Last-Event-ID': first.lastEventId } });
    await sleep(200);
    publishing = false;
    await publisher;
    await resumed.until((events) => dataEvents(events).at(-1)?.id === published.at(-1), 10_000);
    expect([...ids(first), ...ids(resumed)]).toEqual(published);
  });

  it('streams through the round-robin proxy across an instance kill, resuming on a live instance', async () => {
    const cluster = await startCluster({ redisUrl: redis.url, instances: 2 });
    onCleanup(() => cluster.stop());
    // The first request goes to instance 0: the stream lives there.
    const stream = await openSse(`${cluster.url}/events?topic=orders`);
    await waitOpen(stream);
    const before: string[] = [];
    for (let i = 0; i < 5; i++) before.push(await publish(cluster.url, `before ${i}`));
    await stream.until((events) => dataEvents(events).length === 5);

    await cluster.kill(0);
    expect(cluster.instances[0]!.alive).toBe(false);
    expect(await stream.settled()).toBe('failed');
    const during = [await publish(cluster.url, 'during')];
    const resumed = await openSse(`${cluster.url}/events?topic=orders`, { headers: { 'Last-Event-ID': stream.lastEventId } });
    await resumed.until((events) => dataEvents(events).length === 1);
    const after = [await publish(cluster.url, 'after')];
    await resumed.until((events) => dataEvents(events).length === 2);
    expect(ids(stream)).toEqual(before);
    expect(ids(resumed)).toEqual([...during, ...after]);
    const stats = await (await fetch(`${cluster.instances[1]!.url}/stats`)).json();
    expect(stats.openSse).toBe(1);
  });
});

describe('node demo-server/cli.js', () => {
  /** Runs the CLI with `env` until it says where it listens, or exits; resolves with what it printed. */
  async function runCli(env: Record<string, string>): Promise<{ output: string; child: ChildProcess }> {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../../../demo-server/cli.js', import.meta.url))], { env: { ...process.env, DEMO_FEEDS: '0', REDIS_URL: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    onCleanup(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    });
    let output = '';
    await new Promise<void>((resolve) => {
      const read = (chunk: Buffer) => {
        output += chunk;
        if (output.includes('ssemux demo server on')) resolve();
      };
      child.stdout.on('data', read);
      child.stderr.on('data', read);
      child.once('exit', () => resolve());
    });
    return { output, child };
  }

  it('PORT=0 listens on a free port (not 8080); a PORT that is no port number is refused', async () => {
    const { output } = await runCli({ PORT: '0' });
    const port = Number(/on http:\/\/localhost:(\d+)/.exec(output)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(8080);
    const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as { openStreams: number };
    expect(stats.openStreams).toBe(0);
    const bad = await runCli({ PORT: 'eighty' });
    await new Promise((resolve) => (bad.child.exitCode !== null ? resolve(null) : bad.child.once('exit', resolve)));
    expect(bad.child.exitCode).toBe(1);
    expect(bad.output).toMatch(/PORT must be a port number/);
  });
});
