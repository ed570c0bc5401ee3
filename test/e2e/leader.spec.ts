import type { BrowserContext, Page } from '@playwright/test';
import { FAST, expect, expectIds, ids, login, openClients, openHarness, publish, publishOne, startClient, startServer, stats, status, test, type DemoServer } from './fixtures.js';
import { launchOwnBrowser, openTrackedTab } from './crash.js';

// Without SharedWorker the tabs elect a leader (Web Locks) that holds the one upstream and relays
// over BroadcastChannel.
const withoutSharedWorker = (context: BrowserContext) =>
  context.addInitScript(() => {
    delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
  });

const openTabs = (context: BrowserContext, server: DemoServer, stream: string, n: number) =>
  openClients(context, server, n, { url: `/events?stream=${stream}`, sharing: 'auto', ...FAST }, { leaderFirst: true });

/**
 * Publishes one event every 20 ms until `stop()`; returns the ids. A takeover that loses or
 * repeats an event shows in the ids the followers got.
 */
function publishSteadily(server: DemoServer, stream: string) {
  const sent: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      sent.push(...(await publish(server, stream, 1)));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { sent, stop: async () => ((running = false), await done, sent) };
}

/**
 * While events keep coming, `loseLeader()` ends the leader; asserts that the server sees a new
 * upstream within 2 s (recorded as an annotation) and that `followers` got every event once.
 */
async function expectTakeover(server: DemoServer, stream: string, followers: Page[], loseLeader: () => Promise<void> | void): Promise<void> {
  const first = await publish(server, stream, 3);
  await expectIds(followers, first);
  const steady = publishSteadily(server, stream);
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  await loseLeader();
  await expect
    .poll(async () => {
      const s = await stats(server);
      return s.connections >= 2 && s.perStream[stream]?.open === 1;
    }, { timeout: 5000, intervals: [25] })
    .toBe(true);
  const ms = Date.now() - t0;
  test.info().annotations.push({ type: 'takeover-ms', description: String(ms) });
  expect(ms).toBeLessThan(2000);
  await new Promise((r) => setTimeout(r, 300));
  const sent = await steady.stop();
  await expectIds(followers, [...first, ...sent]);
}

test('6 tabs without SharedWorker: one leader, one upstream, every event to every tab', async ({ context, server }) => {
  await withoutSharedWorker(context);
  const stream = 'leader-six';
  const pages = await openTabs(context, server, stream, 6);
  for (const page of pages) expect((await status(page)).sharing).toBe('leader');
  expect((await status(pages[0]!)).fallbackReason).toMatch(/SharedWorker/);
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
  const sent = await publish(server, stream, 20);
  await expectIds(pages, sent);
  expect((await stats(server)).connections).toBe(1);
});

test('the leader tab closes: a follower takes over within 2 s, nothing lost or doubled', async ({ context, server }) => {
  await withoutSharedWorker(context);
  const stream = 'leader-close';
  const [leader, ...followers] = await openTabs(context, server, stream, 6);
  await expectTakeover(server, stream, followers, () => leader!.close());
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
});

test('the leader crashes (renderer killed): a follower takes over within 2 s, nothing lost or doubled', async ({ server }) => {
  const own = await launchOwnBrowser();
  try {
    const context = await own.browser.newContext();
    await withoutSharedWorker(context);
    const stream = 'leader-crash';
    // A first page of the context brings up the renderers a context starts with.
    await openHarness(context, server);
    const { page: leader, pid } = await openTrackedTab(own.pid, () => openHarness(context, server));
    await startClient(leader, { url: `/events?stream=${stream}`, sharing: 'auto', ...FAST });
    await expect.poll(async () => (await status(leader)).state).toBe('open');
    const followers = [];
    for (let i = 0; i < 3; i++) {
      const page = await openHarness(context, server);
      await startClient(page, { url: `/events?stream=${stream}`, sharing: 'auto', ...FAST });
      followers.push(page);
    }
    for (const page of followers) await expect.poll(async () => (await status(page)).state).toBe('open');
    await expectTakeover(server, stream, followers, () => void process.kill(pid, 'SIGKILL'));
  } finally {
    await own.browser.close();
    await own.server.close();
  }
});

test('two credentials without SharedWorker: a leader each, no event crosses', async ({ context }) => {
  await withoutSharedWorker(context);
  const server = await startServer({ auth: true });
  try {
    const tabs = [];
    for (const user of ['alice', 'bob', 'alice', 'bob']) {
      const token = await login(server, user);
      const page = await openHarness(context, server);
      await page.evaluate((t) => ((window as any).token = t), token);
      // An async provider, as apps have: called before every attempt.
      await page.evaluate(() => {
        const h = (window as any).harness;
        const client = (window as any).ssemux.createRealtimeClient({
          url: '/events?stream=private',
          sharing: 'auto',
          headers: async () => ({ Authorization: `Bearer ${(window as any).token}` }),
        });
        const got: string[] = [];
        client.on('*', (m: { lastEventId: string }) => got.push(m.lastEventId));
        h.provided = { client, got };
      });
      tabs.push({ user, page });
    }
    for (const { page } of tabs) await expect.poll(() => page.evaluate(() => (window as any).harness.provided.client.status.state)).toBe('open');
    expect((await stats(server)).perStream.private?.open).toBe(2);
    const a = await publishOne(server, { stream: 'private', user: 'alice', data: 1 });
    const b = await publishOne(server, { stream: 'private', user: 'bob', data: 2 });
    for (const { user, page } of tabs) {
      await expect.poll(() => page.evaluate(() => (window as any).harness.provided.got)).toEqual([user === 'alice' ? a : b]);
    }
  } finally {
    await server.close();
  }
});

test('without SharedWorker, Web Locks and BroadcastChannel each tab connects on its own and says so', async ({ context, server }) => {
  await context.addInitScript(() => {
    delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
    delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel;
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });
  });
  const pages = await openTabs(context, server, 'alone', 2);
  for (const page of pages) {
    const s = await status(page);
    expect(s.sharing).toBe('none');
    expect(s.fallbackReason).toMatch(/Web Locks/);
  }
  expect((await stats(server)).perStream.alone?.open).toBe(2);
  const sent = await publish(server, 'alone', 3);
  await expectIds(pages, sent);
  expect(await ids(pages[1]!)).toEqual(sent);
});
