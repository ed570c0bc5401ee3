import type { Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import { startCluster, type Cluster } from '../support/cluster.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { FAST, expect, expectTopic, publishOne, received, startClient, status, test } from './fixtures.js';

// Several instances of the server on one Redis, behind a round-robin balancer, as deployed: a
// tab's stream lands on any instance, events are published on any instance, and the instance
// holding the stream dies.

const root = fileURLToPath(new URL('../..', import.meta.url));

interface InstanceStats {
  openStreams: number;
  perStream: Record<string, { open: number }>;
}

test('three instances on Redis: tabs with different and changing topics get every event once, through an instance SIGKILL, on one upstream', async ({ context }) => {
  test.setTimeout(120_000);
  const redis: RedisServer = await startRedis();
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster({
      redisUrl: redis.url,
      instances: 3,
      statics: [
        { prefix: '/dist/', dir: `${root}dist/` },
        { prefix: '/', dir: `${root}test/e2e/pages/` },
      ],
    });
    const c = cluster;
    const alive = () => c.instances.filter((i) => i.alive);
    const statsOf = async (url: string): Promise<InstanceStats> => (await fetch(`${url}/stats`)).json() as never;
    const upstreams = async () => (await Promise.all(alive().map((i) => statsOf(i.url).then((s) => s.openStreams, () => 0)))).reduce((a, b) => a + b, 0);

    const topicsOf = { t1: ['t1'], t2: ['t2'], both: ['t1', 't2'], t3: ['t3'] };
    const tabs: Record<string, Page> = {};
    for (const [name, topics] of Object.entries(topicsOf)) {
      const page = await context.newPage();
      await page.goto(`${c.url}/harness.html`);
      await page.waitForFunction(() => (window as any).harnessReady === true);
      await startClient(page, { url: '/events', topics, sharing: 'shared-worker', ...FAST });
      await expect.poll(async () => (await status(page)).state).toBe('open');
      tabs[name] = page;
    }
    await expect.poll(upstreams).toBe(1);

    // Events on every topic, published on the instances in turn (never only where the stream is).
    let running = true;
    let published = 0;
    const samples: number[] = [];
    const publisher = (async () => {
      for (let i = 0; running; i++) {
        const instances = alive();
        const target = instances[i % instances.length]!;
        try {
          await publishOne(target, { topic: ['t1', 't2', 't3', 't4'][i % 4], data: { i } });
          published++;
        } catch {
          // The instance died between the choice and the request: the next one takes it.
        }
        await new Promise((r) => setTimeout(r, 15));
      }
    })();
    const sampler = (async () => {
      while (running) {
        samples.push(await upstreams());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // Events flowing to every tab before the topics change.
    for (const page of Object.values(tabs)) await expect.poll(async () => (await received(page)).length).toBeGreaterThanOrEqual(3);
    // Tab t2 adds t3; tab t3 moves to t4.
    const headAt = async () => (await statsOf(alive()[0]!.url).then((s) => (s as unknown as { latestId: string }).latestId));
    const changedAt = await headAt();
    await tabs.t2!.evaluate(() => (window as any).harness.setTopics(0, ['t2', 't3']));
    await tabs.t3!.evaluate(() => (window as any).harness.setTopics(0, ['t4']));
    // The change took effect: the upstream now carries t4, which only tab t3's change brings.
    await expect.poll(async () => (await Promise.all(alive().map((i) => statsOf(i.url)))).some((s) => s.perStream.t4?.open === 1)).toBe(true);
    const quietAfter = await headAt();

    // The instance that holds the stream dies without a word.
    const holders = [];
    for (const [index, instance] of c.instances.entries()) if (instance.alive && (await statsOf(instance.url)).openStreams > 0) holders.push(index);
    expect(holders).toHaveLength(1);
    await c.kill(holders[0]!);
    // Events go on across the death and after the stream is back on a surviving instance.
    await expect.poll(upstreams, { timeout: 15_000 }).toBe(1);
    const resumedAt = published;
    await expect.poll(() => published).toBeGreaterThanOrEqual(resumedAt + 20);
    running = false;
    await publisher;
    await sampler;
    const last = await headAt();
    for (const page of Object.values(tabs)) {
      await expect.poll(() => page.evaluate(() => (window as any).harness.status(0).lastEventId), { timeout: 20_000 }).toBe(last);
    }

    // The log, read from a live instance's Redis: what every tab must have got.
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    const entries = (await client.xrange('ssemux:events', '-', '+')) as [string, string[]][];
    client.disconnect();
    const all = entries.map(([cursor, fields]) => ({ cursor, topic: fields[fields.indexOf('t') + 1]! }));
    expect(all.length).toBe(published);
    const gotOf = async (page: Page, topic: string) => (await received(page)).filter((m) => (m as { topic?: string }).topic === topic).map((m) => m.id);
    expectTopic(await gotOf(tabs.t1!, 't1'), all, 't1');
    expectTopic(await gotOf(tabs.t2!, 't2'), all, 't2');
    expectTopic(await gotOf(tabs.t2!, 't3'), all, 't3', { added: changedAt });
    expectTopic(await gotOf(tabs.both!, 't1'), all, 't1');
    expectTopic(await gotOf(tabs.both!, 't2'), all, 't2');
    expectTopic(await gotOf(tabs.t3!, 't3'), all, 't3', { dropped: changedAt, silentAfter: quietAfter });
    expectTopic(await gotOf(tabs.t3!, 't4'), all, 't4', { added: changedAt });
    for (const page of Object.values(tabs)) expect((await received(page)).length).toBeGreaterThan(5);

    await expect.poll(upstreams).toBe(1);
    test.info().annotations.push({ type: 'upstreams over all instances, sampled every 100 ms', description: `max ${Math.max(...samples)}, ${samples.length} samples` });
    test.info().annotations.push({ type: 'events published across 3 instances', description: String(published) });
  } finally {
    await cluster?.stop();
    await redis.stop();
  }
});
