import type { Browser, Page } from '@playwright/test';
import { FAST, expect, expectIds, ids, login, openClients, openHarness, publish, publishOne, startClient, startServer, stats, status, test } from './fixtures.js';
import { launchOwnBrowser, openTrackedTab } from './crash.js';
import { memoryStore } from 'ssemux/server';

const SHARED = { sharing: 'shared-worker', ...FAST } as const;

async function sharedWorkerTargets(browser: Browser) {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string; url: string }[] };
  return { cdp, workers: targetInfos.filter((t) => t.type === 'shared_worker') };
}

test('12 tabs share one upstream and each gets every event once, in order', async ({ context, server }) => {
  const stream = 'twelve';
  const pages = await openClients(context, server, 12, { url: `/events?stream=${stream}`, ...SHARED });
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
  expect((await status(pages[0]!)).sharing).toBe('shared-worker');
  const sent = await publish(server, stream, 20);
  await expectIds(pages, sent);
  expect((await stats(server)).openStreams).toBe(1);
  expect((await stats(server)).connections).toBe(1);
});

test('tabs leave and join without reopening the upstream; it closes after the last client', async ({ context, server }) => {
  const stream = 'lifecycle';
  const pages = await openClients(context, server, 12, { url: `/events?stream=${stream}`, ...SHARED });
  await expect.poll(async () => (await stats(server)).perStream[stream]?.open).toBe(1);
  const last = pages.pop()!;
  for (const page of pages) await page.close();
  const sent = await publish(server, stream, 5);
  await expectIds([last], sent);

  const late = await openHarness(context, server);
  await startClient(late, { url: `/events?stream=${stream}`, ...SHARED });
  await expect.poll(async () => (await status(late)).state).toBe('open');
  const more = await publish(server, stream, 3);
  await expectIds([late], more);
  await expectIds([last], [...sent, ...more]);
  // One request for the whole life of the stream: never reopened.
  expect((await stats(server)).connections).toBe(1);

  await last.evaluate(() => (window as any).harness.close(0));
  await late.evaluate(() => (window as any).harness.close(0));
  expect((await status(last)).state).toBe('closed');
  await expect.poll(async () => (await stats(server)).openStreams, { timeout: 10_000 }).toBe(0);
});

test('a reload within the grace period keeps the upstream', async ({ context, server }) => {
  // Another tab keeps the worker alive (a worker with no document left is ended by the browser);
  // the reloaded tab is the only one on its stream.
  const keeper = await openHarness(context, server);
  await startClient(keeper, { url: '/events?stream=keeper', ...SHARED });
  const page = await openHarness(context, server);
  await startClient(page, { url: '/events?stream=reload', ...SHARED });
  await expect.poll(async () => (await stats(server)).perStream.reload?.open).toBe(1);
  await page.reload();
  await page.waitForFunction(() => (window as any).harnessReady === true);
  await startClient(page, { url: '/events?stream=reload', ...SHARED });
  await expect.poll(async () => (await status(page)).state).toBe('open');
  const sent = await publish(server, 'reload', 2);
  await expectIds([page], sent);
  // One request per stream: the reload did not reopen 'reload'.
  expect((await stats(server)).connections).toBe(2);
});

test('the worker restarts: every tab notices, resubscribes and resumes with nothing lost or doubled', async ({ browser, context, server }) => {
  const stream = 'restart-worker';
  const pages = await openClients(context, server, 3, { url: `/events?stream=${stream}`, ...SHARED });
  const before = await publish(server, stream, 4);
  await expectIds(pages, before);
  const { cdp, workers } = await sharedWorkerTargets(browser);
  expect(workers).toHaveLength(1);
  await cdp.send('Target.closeTarget', { targetId: workers[0]!.targetId });
  // Events published while no worker holds the stream must still arrive, from the replay.
  const during = await publish(server, stream, 3);
  await expect.poll(async () => (await sharedWorkerTargets(browser)).workers.length).toBe(1);
  const after = await publish(server, stream, 3);
  await expectIds(pages, [...before, ...during, ...after]);
  expect((await status(pages[0]!)).sharing).toBe('shared-worker');
  await expect.poll(async () => (await stats(server)).perStream[stream]?.open).toBe(1);
});

test('a worker of another protocol version is not used: the tab falls back and still gets every event', async ({ context, server }) => {
  const stream = 'mismatch';
  await context.route('**/dist/ssemux-worker.js', async (route) => {
    const response = await route.fetch();
    // An old worker that outlived a deploy answers hello with another version.
    const body = (await response.text()).replace(/protocol:\w+,lifeLock:/, 'protocol:999,lifeLock:');
    expect(body).toContain('protocol:999');
    await route.fulfill({ response, body });
  });
  const page = await openHarness(context, server);
  await startClient(page, { url: `/events?stream=${stream}`, sharing: 'auto', ...FAST });
  await expect.poll(async () => (await status(page)).state).toBe('open');
  const s = await status(page);
  expect(s.sharing).not.toBe('shared-worker');
  expect(s.fallbackReason).toMatch(/protocol/);
  const sent = await publish(server, stream, 3);
  await expectIds([page], sent);
});

test('the server dies and comes back: every tab resumes from its last id', async ({ context }) => {
  // A log that outlives the server, as durable storage would.
  const store = memoryStore({ maxEvents: 1000 });
  let server = await startServer({ store });
  const port = server.port;
  const stream = 'server-restart';
  const pages = await openClients(context, server, 4, { url: `/events?stream=${stream}`, ...SHARED });
  const before = await publish(server, stream, 3);
  await expectIds(pages, before);
  await server.close();
  for (const page of pages) await expect.poll(async () => (await status(page)).state).toBe('reconnecting');
  // Published while the server is down, straight into its durable log.
  const during: string[] = [];
  for (const n of [1, 2]) during.push((await store.append({ topic: stream, type: 'message', data: JSON.stringify({ n }) })).cursor);
  server = await startServer({ store, port });
  const after = await publish(server, stream, 3);
  await expectIds(pages, [...before, ...during, ...after]);
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
  await server.close();
});

test('a tab whose renderer is killed is noticed: its own stream closes within 10 s, the others go on', async ({ server }) => {
  const own = await launchOwnBrowser();
  try {
    const context = await own.browser.newContext();
    const survivor = await openHarness(context, server);
    await startClient(survivor, { url: '/events?stream=shared', ...SHARED });
    await expect.poll(async () => (await status(survivor)).state).toBe('open');
    const { page: victim, pid } = await openTrackedTab(own.pid, () => openHarness(context, server));
    await startClient(victim, { url: '/events?stream=shared', ...SHARED });
    await startClient(victim, { url: '/events?stream=solo', ...SHARED });
    await expect.poll(async () => (await status(victim, 1)).state).toBe('open');
    await expect.poll(async () => (await stats(server)).perStream.solo?.open).toBe(1);

    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await expect.poll(async () => (await stats(server)).perStream.solo?.open ?? 0, { timeout: 10_000, intervals: [100] }).toBe(0);
    const noticedInMs = Date.now() - killedAt;
    expect(noticedInMs).toBeLessThan(10_000);
    test.info().annotations.push({ type: 'crash-noticed-ms', description: String(noticedInMs) });

    const sent = await publish(server, 'shared', 3);
    await expectIds([survivor], sent);
    expect((await stats(server)).perStream.shared?.open).toBe(1);
  } finally {
    await own.browser.close();
    await own.server.close();
  }
});

test('two credentials in four tabs: two upstreams, no event crosses between users', async ({ context }) => {
  const server = await startServer({ auth: true });
  try {
    const pages = [];
    // Each tab logs in on its own: two tabs of one user hold different tokens of that user.
    for (const user of ['alice', 'bob', 'alice', 'bob']) {
      const token = await login(server, user);
      const page = await openHarness(context, server);
      await startClient(page, { url: '/events?stream=private', ...SHARED, headers: { Authorization: `Bearer ${token}` } });
      pages.push({ user, page });
    }
    for (const { page } of pages) await expect.poll(async () => (await status(page)).state).toBe('open');
    expect((await stats(server)).perStream.private?.open).toBe(2);
    const forAlice = await publishOne(server, { stream: 'private', user: 'alice', data: { to: 'alice' } });
    const forBob = await publishOne(server, { stream: 'private', user: 'bob', data: { to: 'bob' } });
    const forAll = await publishOne(server, { stream: 'private', data: { to: 'all' } });
    for (const { user, page } of pages) {
      await expect.poll(() => ids(page)).toEqual(user === 'alice' ? [forAlice, forAll] : [forBob, forAll]);
    }
  } finally {
    await server.close();
  }
});

test('the worker asks a live tab for headers before every attempt, and another tab once that one is gone', async ({ context }) => {
  const server = await startServer({ auth: true });
  try {
    const tabs: Page[] = [];
    for (let i = 0; i < 2; i++) {
      const page = await openHarness(context, server);
      // The provider logs in afresh on every call: a new token of the same user each time.
      await page.evaluate(() => {
        const w = window as any;
        w.providerCalls = 0;
        const client = w.ssemux.createRealtimeClient({
          url: '/events?stream=auth',
          workerUrl: '/dist/ssemux-worker.js',
          sharing: 'shared-worker',
          backoff: { initialMs: 100, maxMs: 500 },
          // Named explicitly, so no start-up call: every call counted here is the worker asking.
          credentialsKey: 'carol',
          headers: async () => {
            w.providerCalls++;
            const res = await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"carol"}' });
            return { Authorization: `Bearer ${(await res.json()).token}` };
          },
        });
        w.got = [];
        client.on('*', (m: { lastEventId: string }) => w.got.push(m.lastEventId));
        w.client = client;
      });
      tabs.push(page);
    }
    // The whole status, so that a failure shows why.
    const state = (page: Page) => page.evaluate(() => (window as any).client.status).then((s) => (s.state === 'open' ? 'open' : s));
    const calls = (page: Page) => page.evaluate(() => (window as any).providerCalls);
    for (const page of tabs) await expect.poll(() => state(page)).toBe('open');
    // Two tokens of one user name one identity: one upstream.
    expect((await stats(server)).perStream.auth?.open).toBe(1);
    const [first, second] = tabs as [Page, Page];
    const secondBefore = await calls(second);

    await first.close();
    await fetch(`${server.url}/faults/drop-all`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"stream":"auth"}' });
    await expect.poll(() => calls(second)).toBeGreaterThan(secondBefore);
    await expect.poll(() => state(second)).toBe('open');
    const id = await publishOne(server, { stream: 'auth', user: 'carol', data: { still: 'here' } });
    await expect.poll(() => second.evaluate(() => (window as any).got)).toContain(id);
  } finally {
    await server.close();
  }
});
