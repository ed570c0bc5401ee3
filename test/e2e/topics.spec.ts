import type { BrowserContext, Page } from '@playwright/test';
import { FAST, expect, expectTopic, ids, logEvents, openHarness, publishOne, received, startClient, stats, status, test, type DemoServer } from './fixtures.js';

// Topics: many feeds, one upstream per endpoint and credentials, every tab on its own topics.

const TOPICS_URL = '/events';

/** Opens a tab with one client of `topics`; waits until it is open. */
async function topicTab(context: BrowserContext, server: DemoServer, topics: string[], options: Record<string, unknown> = {}): Promise<Page> {
  const page = await openHarness(context, server);
  await startClient(page, { url: TOPICS_URL, topics, ...FAST, ...options } as never);
  await expect.poll(async () => (await status(page)).state).toBe('open');
  return page;
}

/** Publishes one event on each of `topics`, in turn, `rounds` times; returns the last cursor. */
async function publishRound(server: DemoServer, topics: string[], rounds = 1): Promise<string> {
  let last = '';
  for (let i = 0; i < rounds; i++) for (const topic of topics) last = await publishOne(server, { topic, data: { topic, i } });
  return last;
}

/** The ids a tab got of one topic, and checks msg.topic matches. */
async function idsOfTopic(page: Page, topic: string): Promise<string[]> {
  return (await received(page)).filter((m) => (m as { topic?: string }).topic === topic).map((m) => m.id);
}

const head = async (server: DemoServer) => (await server.store.head());

test('tabs with different topics share one upstream; each gets its own, once, in order; changing topics loses and repeats nothing', async ({ context, server }) => {
  const spec = { a: ['a'], b: ['b'], ab: ['a', 'b'], c: ['c'] };
  const tabs: Record<string, Page> = {};
  for (const [name, topics] of Object.entries(spec)) tabs[name] = await topicTab(context, server, topics, { sharing: 'shared-worker' });
  // The one upstream carries the union (the last tab's topic joins it within the debounce window).
  await expect.poll(async () => {
    const s = await stats(server);
    return [s.openStreams, s.perStream.a?.open, s.perStream.b?.open, s.perStream.c?.open];
  }).toEqual([1, 1, 1, 1]);
  const requestsBefore = (await stats(server)).requests;

  await publishRound(server, ['a', 'b', 'c', 'd'], 3);
  await expect.poll(async () => (await idsOfTopic(tabs.c!, 'c')).length).toBe(3);
  await expect.poll(async () => (await ids(tabs.ab!)).length).toBe(6);

  // Tab a adds c; tab c moves from c to d. Events go on at once, within the debounce window.
  const changedAt = await head(server);
  await tabs.a!.evaluate(() => (window as any).harness.setTopics(0, ['a', 'c']));
  await tabs.c!.evaluate(() => (window as any).harness.setTopics(0, ['d']));
  await publishRound(server, ['c', 'd', 'a', 'b'], 2);
  // The change took effect: the upstream now carries d, which only tab c's change brings.
  await expect.poll(async () => (await stats(server)).perStream.d?.open).toBe(1);
  const quietAfter = await head(server);
  const last = await publishRound(server, ['c', 'd', 'a', 'b'], 2);
  for (const page of Object.values(tabs)) await expect.poll(async () => (await page.evaluate(() => (window as any).harness.status(0).lastEventId))).toBe(last);

  const all = await logEvents(server);
  expectTopic(await idsOfTopic(tabs.a!, 'a'), all, 'a');
  expectTopic(await idsOfTopic(tabs.a!, 'c'), all, 'c', { added: changedAt });
  expectTopic(await idsOfTopic(tabs.b!, 'b'), all, 'b');
  expectTopic(await idsOfTopic(tabs.ab!, 'a'), all, 'a');
  expectTopic(await idsOfTopic(tabs.ab!, 'b'), all, 'b');
  expectTopic(await idsOfTopic(tabs.c!, 'c'), all, 'c', { dropped: changedAt, silentAfter: quietAfter });
  expectTopic(await idsOfTopic(tabs.c!, 'd'), all, 'd', { added: changedAt });
  for (const page of Object.values(tabs)) {
    const got = await received(page);
    expect(got.every((m) => (m.data as { topic: string }).topic === (m as { topic?: string }).topic)).toBe(true);
  }
  // Still one upstream; the two changes cost one reconnect.
  const s1 = await stats(server);
  expect(s1.openStreams).toBe(1);
  expect(s1.requests - requestsBefore).toBe(1);
});

for (const transport of ['fetch', 'eventsource', 'polyfill', 'long-poll'] as const) {
  test(`transport ${transport} carries topics: each event with its topic, and setTopics takes effect`, async ({ context, server }) => {
    const page = await topicTab(context, server, ['a', 'b'], { sharing: 'none', transport });
    expect((await status(page)).transport).toBe(transport);
    await publishRound(server, ['a', 'b', 'c'], 2);
    await expect.poll(async () => (await ids(page)).length).toBe(4);
    const changedAt = await head(server);
    await page.evaluate(() => (window as any).harness.setTopics(0, ['c']));
    // The change took effect: the server holds a request for c (a long-poll's between two polls
    // shows as none for a moment) and none for a.
    await expect.poll(async () => {
      const s = await stats(server);
      return (s.perStream.c?.open ?? 0) > 0 && (s.perStream.a?.open ?? 0) === 0;
    }).toBe(true);
    const quietAfter = await head(server);
    const last = await publishRound(server, ['a', 'b', 'c'], 2);
    await expect.poll(async () => await idsOfTopic(page, 'c')).toContain(last);
    const all = await logEvents(server);
    expectTopic(await idsOfTopic(page, 'a'), all, 'a', { dropped: changedAt, silentAfter: quietAfter });
    expectTopic(await idsOfTopic(page, 'b'), all, 'b', { dropped: changedAt, silentAfter: quietAfter });
    expectTopic(await idsOfTopic(page, 'c'), all, 'c', { added: changedAt });
  });
}

test('leader mode with topics: a takeover keeps every tab exactly on its topics', async ({ context, server }) => {
  await context.addInitScript(() => {
    delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
  });
  const leader = await topicTab(context, server, ['x']);
  const followers = [await topicTab(context, server, ['y']), await topicTab(context, server, ['x', 'y'])];
  for (const page of [leader, ...followers]) expect((await status(page)).sharing).toBe('leader');
  await expect.poll(async () => (await stats(server)).openStreams).toBe(1);
  let running = true;
  let published = 0;
  const steady = (async () => {
    for (let i = 0; running; i++) {
      await publishOne(server, { topic: ['x', 'y', 'z'][i % 3], data: { i } });
      published++;
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  // Events in flight, through the leader, as it goes.
  await expect.poll(async () => (await ids(followers[1]!)).length).toBeGreaterThanOrEqual(3);
  await leader.close();
  // A follower took over (a second upstream, the only one open), and events went on after it.
  await expect.poll(async () => {
    const s = await stats(server);
    return s.connections >= 2 && s.openStreams === 1;
  }).toBe(true);
  const tookOverAt = published;
  await expect.poll(() => published).toBeGreaterThanOrEqual(tookOverAt + 10);
  running = false;
  await steady;
  const all = await logEvents(server);
  const count = (topic: string) => all.filter((e) => e.topic === topic).length;
  await expect.poll(async () => (await idsOfTopic(followers[1]!, 'y')).length).toBe(count('y'));
  expectTopic(await idsOfTopic(followers[0]!, 'y'), all, 'y');
  expectTopic(await idsOfTopic(followers[1]!, 'x'), all, 'x');
  expectTopic(await idsOfTopic(followers[1]!, 'y'), all, 'y');
  expect(await idsOfTopic(followers[0]!, 'x')).toEqual([]);
  await expect.poll(async () => (await stats(server)).openStreams).toBe(1);
});
