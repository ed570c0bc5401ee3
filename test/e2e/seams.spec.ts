import type { Browser, BrowserContext, Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import {
  FAST,
  burst,
  burstDone,
  expect,
  ids,
  logged,
  login,
  openHarness,
  publishOne,
  startClient,
  stats,
  status,
  tally,
  test,
  type DemoServer,
} from './fixtures.js';

// Where tabs differ: a tab listening to one rare type beside '*' tabs, across the seams where the
// stream's position matters (a worker restart, a leader takeover), with events flowing throughout.

const withoutSharedWorker = (context: BrowserContext) =>
  context.addInitScript(() => {
    delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
  });

async function killSharedWorker(browser: Browser): Promise<void> {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
  const workers = targetInfos.filter((t) => t.type === 'shared_worker');
  expect(workers).toHaveLength(1);
  await cdp.send('Target.closeTarget', { targetId: workers[0]!.targetId });
  await cdp.detach();
}

interface MixedTabs {
  rare: Page;
  all: Page[];
}

/** Opens the tabs in `order` ('rare' listens to `rare` only, 'all' to '*'), each open before the next. */
async function openMixed(context: BrowserContext, server: DemoServer, stream: string, order: ('rare' | 'all')[], sharing: string): Promise<MixedTabs & { pages: Page[] }> {
  const pages: Page[] = [];
  const tabs: MixedTabs = { rare: undefined as unknown as Page, all: [] };
  for (const kind of order) {
    const page = await openHarness(context, server);
    await startClient(page, { url: `/events?stream=${stream}`, sharing, ...FAST }, kind === 'rare' ? ['rare'] : ['*']);
    await expect.poll(async () => (await status(page)).state).toBe('open');
    if (kind === 'rare') tabs.rare = page;
    else tabs.all.push(page);
    pages.push(page);
  }
  return { ...tabs, pages };
}

/**
 * The seam scenario: 1 `rare` and 3,000 `common` events, the hub goes away in the middle of
 * them (`loseHub`), more events after; then every tab must hold every event of its types exactly
 * once and in order. Records duplicates and losses per tab.
 */
async function mixedAcrossHubLoss(server: DemoServer, stream: string, tabs: MixedTabs, loseHub: () => Promise<void>, label: string): Promise<void> {
  await publishOne(server, { stream, type: 'rare', data: { n: 0 } });
  await burst(server, stream, 3000, 3000, 'common');
  // In the middle of the burst: the tabs are getting it.
  await expect.poll(async () => (await ids(tabs.all[0]!)).length, { intervals: [20] }).toBeGreaterThanOrEqual(600);
  await loseHub();
  await burstDone(server);
  await publishOne(server, { stream, type: 'rare', data: { n: 1 } });
  await burst(server, stream, 200, 2000, 'common');
  await burstDone(server);

  const everything = await logged(server, stream);
  const rare = await logged(server, stream, ['rare']);
  expect(everything).toHaveLength(3202);
  const results: Record<string, ReturnType<typeof tally>> = {};
  for (const [i, page] of tabs.all.entries()) {
    await expect.poll(async () => (await ids(page)).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(everything.length);
    results[`all${i + 1}`] = tally(await ids(page), everything);
  }
  await expect.poll(async () => (await ids(tabs.rare)).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(rare.length);
  results.rare = tally(await ids(tabs.rare), rare);
  test.info().annotations.push({ type: `${label}: duplicates and losses per tab`, description: JSON.stringify(results) });
  for (const result of Object.values(results)) expect(result).toEqual({ duplicates: 0, lost: 0, inOrder: true });
  for (const page of tabs.all) expect(await ids(page)).toEqual(everything);
  expect(await ids(tabs.rare)).toEqual(rare);
}

test('mixed filters across a worker restart: the rare tab resubscribes first, every tab gets each of its events once, in order', async ({ browser, context, server }) => {
  const stream = 'mixed-worker';
  // The rare tab is opened first, so it is the first to notice the worker's death and resubscribe.
  const tabs = await openMixed(context, server, stream, ['rare', 'all', 'all'], 'shared-worker');
  await mixedAcrossHubLoss(server, stream, tabs, () => killSharedWorker(browser), 'worker restart');
  for (const page of tabs.pages) expect((await status(page)).sharing).toBe('shared-worker');
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
});

test('mixed filters across a leader takeover: the rare tab becomes the leader, every tab gets each of its events once, in order', async ({ context, server }) => {
  await withoutSharedWorker(context);
  const stream = 'mixed-leader';
  // The leader is the first tab; the rare tab, next in the lock queue, takes over when it closes.
  const { pages, all, rare } = await openMixed(context, server, stream, ['all', 'rare', 'all'], 'auto');
  const [leader] = pages as [Page];
  const followers = { rare, all: all.slice(1) };
  await mixedAcrossHubLoss(server, stream, followers, () => leader.close(), 'leader takeover');
  for (const page of [followers.rare, ...followers.all]) expect((await status(page)).sharing).toBe('leader');
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
});

/** A provider in the page that answers with `window.token` (and `window.tenant` as X-Tenant, when set). */
async function tokenProvider(page: Page, token: string, tenant?: string): Promise<void> {
  await page.evaluate(
    ([t, tenant]) => {
      const w = window as unknown as { token: string; tenant?: string; asked: number; provider: () => Promise<Record<string, string>> };
      w.token = t!;
      if (tenant) w.tenant = tenant;
      w.asked = 0;
      w.provider = async () => {
        w.asked++;
        return { Authorization: `Bearer ${w.token}`, ...(w.tenant ? { 'X-Tenant': w.tenant } : {}) };
      };
    },
    [token, tenant] as const,
  );
}

test('credentials switch mid-session (a logout and login in one tab): it moves to the new user, the other tab never sees their events', async ({ context, authServer }) => {
  const server = authServer;
  const stream = 'switch';
  const [alice1, alice2, bob] = [await login(server, 'alice'), await login(server, 'alice'), await login(server, 'bob')];
  const first = await openHarness(context, server);
  await tokenProvider(first, alice1);
  await startClient(first, { url: `/events?stream=${stream}`, sharing: 'shared-worker', headers: '$provider', ...FAST });
  await expect.poll(async () => (await status(first)).state).toBe('open');
  const second = await openHarness(context, server);
  await tokenProvider(second, alice2);
  await startClient(second, { url: `/events?stream=${stream}`, sharing: 'shared-worker', headers: '$provider', ...FAST });
  await expect.poll(async () => (await status(second)).state).toBe('open');
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
  const forAlice = await publishOne(server, { stream, user: 'alice', data: { to: 'alice' } });
  for (const page of [first, second]) await expect.poll(() => ids(page)).toEqual([forAlice]);

  // The first tab logs out and in as bob. The stream reconnects; the worker asks the tab that
  // answered last, the first: its answer names other credentials, so it moves to bob's stream,
  // and alice's stream is reopened with alice's token from the second tab.
  await first.evaluate((t) => ((window as unknown as { token: string }).token = t), bob);
  await fetch(`${server.url}/faults/drop-all`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream }) });
  await expect.poll(async () => (await stats(server)).perStream[stream]?.open, { timeout: 10_000 }).toBe(2);
  for (const page of [first, second]) await expect.poll(async () => (await status(page)).state).toBe('open');
  const toAlice = await publishOne(server, { stream, user: 'alice', data: { to: 'alice again' } });
  const toBob = await publishOne(server, { stream, user: 'bob', data: { to: 'bob' } });
  const toAll = await publishOne(server, { stream, data: { to: 'all' } });
  await expect.poll(() => ids(first)).toEqual([forAlice, toBob, toAll]);
  await expect.poll(() => ids(second)).toEqual([forAlice, toAlice, toAll]);
});

test('two tenants of one user (same JWT sub, different X-Tenant): two upstreams, never shared', async ({ context, authServer }) => {
  const server = authServer;
  const pages: Page[] = [];
  for (const tenant of ['acme', 'globex', 'acme']) {
    const page = await openHarness(context, server);
    await tokenProvider(page, await login(server, 'carol'), tenant);
    await startClient(page, { url: '/events?stream=tenants', sharing: 'shared-worker', headers: '$provider', ...FAST });
    pages.push(page);
  }
  for (const page of pages) await expect.poll(async () => (await status(page)).state).toBe('open');
  // Two tokens of carol for acme share; globex has its own.
  expect((await stats(server)).perStream.tenants?.open).toBe(2);
});

test('two releases side by side in leader mode: each elects its own leader and gets every event', async ({ context, server }) => {
  await withoutSharedWorker(context);
  const stream = 'releases';
  const oldTab = await openHarness(context, server);
  await startClient(oldTab, { url: `/events?stream=${stream}`, sharing: 'auto', ...FAST });
  await expect.poll(async () => (await status(oldTab)).state).toBe('open');
  // A tab of the next deploy: the same library with another release number in its names.
  const newTab = await context.newPage();
  const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
  await newTab.route('**/dist/**/*.js', async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replaceAll(`ssemux@${version}/`, 'ssemux@99.0.0-next/');
    expect(body === (await response.text()) && route.request().url().endsWith('/ssemux.js')).toBe(false);
    await route.fulfill({ response, body });
  });
  await newTab.goto(`${server.url}/harness.html`);
  await newTab.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true);
  await startClient(newTab, { url: `/events?stream=${stream}`, sharing: 'auto', ...FAST });
  await expect.poll(async () => (await status(newTab)).state).toBe('open');
  for (const page of [oldTab, newTab]) expect((await status(page)).sharing).toBe('leader');
  // One leader, one upstream per release.
  expect((await stats(server)).perStream[stream]?.open).toBe(2);
  const sent = [await publishOne(server, { stream, data: { n: 1 } }), await publishOne(server, { stream, data: { n: 2 } })];
  for (const page of [oldTab, newTab]) await expect.poll(() => ids(page)).toEqual(sent);
});
