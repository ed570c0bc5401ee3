// The demo dashboard (demo/ built into demo-dist/ by scripts/build.mjs), in real Chromium against
// the reference server: tabs share one upstream, jobs and answers reach every tab, a dropped
// connection resumes with nothing lost or doubled, and the leader / long-poll fallbacks work.
import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDemoServer } from '../../demo-server/server.js';

type DemoServer = Awaited<ReturnType<typeof createDemoServer>>;

const root = fileURLToPath(new URL('../..', import.meta.url));

const test = base.extend<{ server: DemoServer }>({
  server: async ({}, use) => {
    if (!existsSync(`${root}/demo-dist/index.html`)) throw new Error('demo-dist/ is missing: run `node scripts/build.mjs` first');
    const server = await createDemoServer({
      port: 0,
      demo: true,
      heartbeatMs: 2000,
      staticDirs: [
        { prefix: '/', dir: `${root}/demo-dist` },
        { prefix: '/dist', dir: `${root}/dist` },
      ],
    });
    await use(server);
    await server.close();
  },
});

// Tall enough to show every panel without scrolling.
test.use({ viewport: { width: 1280, height: 1400 } });

async function openTabs(context: BrowserContext, url: string, n: number): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < n; i++) {
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`tab ${i + 1}: ${error.message}`));
    await page.goto(url);
    pages.push(page);
  }
  return pages;
}

const state = (page: Page) => page.getByTestId('conn-state');
const historyCount = (page: Page, s: string) => page.locator(`[data-testid="conn-history"] li[data-state="${s}"]`).count();

/** The position in the server's log of a cursor `<generation>-<n>` (the server protocol in the README). */
const ordinal = (cursor: string | null) => Number(cursor?.split('-')[1]);

/** The ordinals of the log's rows, newest first. */
const logIds = (page: Page) =>
  page.locator('[data-testid="log-row"]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-id')?.split('-')[1])));

test('three tabs: one connection, a job on a topic of its own, answers everywhere, a drop resumes without gap or duplicate', async ({ context, server }, testInfo) => {
  const pages = await openTabs(context, `${server.url}/`, 3);
  const [tab1, tab2, tab3] = pages as [Page, Page, Page];

  for (const page of pages) {
    await expect(state(page)).toHaveAttribute('data-state', 'open');
    await expect(page.getByTestId('conn-sharing')).toHaveText('shared-worker');
  }
  for (const page of pages) {
    await expect(page.getByTestId('open-streams')).toHaveText('1');
    await expect(page.getByTestId('tabs-count')).toHaveText('3');
    await expect(page.getByTestId('one-connection-line')).toHaveText('3 tabs, 1 connection');
  }

  // A job started in tab 1 has a topic of its own: tab 1 follows it, tab 2 chooses to, tab 3 does
  // not. All three hear that it started; only the two that follow it see it progress.
  await tab1.getByTestId('start-job').click();
  for (const page of pages) await expect(page.getByTestId('job')).toHaveCount(1);
  await tab2.getByTestId('follow-job').click();
  for (const page of [tab1, tab2]) {
    await expect(page.getByTestId('job')).toHaveAttribute('data-following', 'true');
    await expect(page.getByTestId('upstream-topics').locator('[data-topic="jobs/job-1"]')).toHaveCount(1);
  }
  await expect(tab2.getByTestId('my-topics')).toContainText('jobs/job-1');
  for (const page of [tab1, tab2]) {
    const job = page.getByTestId('job');
    await expect(job).toHaveAttribute('data-pct', '100');
    await expect(job).toHaveAttribute('data-done', 'true');
    await expect(job.getByTestId('job-pct')).toHaveText('100%');
  }
  await expect(tab3.getByTestId('job')).toHaveAttribute('data-following', 'false');
  await expect(tab3.getByTestId('job')).toHaveAttribute('data-pct', '');
  await expect(tab3.getByTestId('my-topics')).toHaveText('main');
  // Once the job is done, its topic leaves the one upstream.
  for (const page of pages) await expect(page.getByTestId('upstream-topics')).toHaveText('main', { timeout: 15_000 });

  // A question asked in tab 2 streams its full answer into every tab.
  await tab2.getByTestId('ask-input').fill('What does ssemux share?');
  await tab2.getByTestId('ask-button').click();
  for (const page of pages) {
    const answer = page.getByTestId('answer');
    await expect(answer).toHaveAttribute('data-done', 'true');
    await expect(answer.getByTestId('answer-text')).toHaveText(
      /^You asked: "What does ssemux share\?"\. Here is a streamed answer\. .* the demo server writes this word by word\.$/,
    );
  }
  const full = await tab2.getByTestId('answer-text').textContent();
  for (const page of pages) await expect(page.getByTestId('answer-text')).toHaveText(full!);

  // Drop the upstream from tab 3: every tab goes reconnecting, then open again.
  const before = await Promise.all(pages.map((page) => historyCount(page, 'reconnecting')));
  const lastIdBefore = ordinal(await tab1.getByTestId('conn-last-id').textContent());
  await tab3.getByTestId('fault-drop').click();
  await expect(tab3.getByTestId('fault-result')).toHaveText('Dropped 1 open stream.');
  for (const [i, page] of pages.entries()) {
    await expect.poll(() => historyCount(page, 'reconnecting')).toBeGreaterThan(before[i]!);
    await expect(state(page)).toHaveAttribute('data-state', 'open');
  }
  // Still one upstream (server-side count, as every tab shows it).
  for (const page of pages) await expect(page.getByTestId('open-streams')).toHaveText('1');
  // Events after the drop: a few ticks and stats beyond the last id seen before it.
  await expect.poll(async () => ordinal(await tab1.getByTestId('conn-last-id').textContent())).toBeGreaterThan(lastIdBefore + 4);

  for (const page of pages) {
    await expect(page.getByTestId('log-gaps')).toHaveAttribute('data-count', '0');
    await expect(page.getByTestId('log-dups')).toHaveAttribute('data-count', '0');
    await expect(page.getByTestId('log-order')).toHaveAttribute('data-count', '0');
    await expect(page.getByTestId('flag-order')).toHaveCount(0);
    await expect(page.getByTestId('flag-dup')).toHaveCount(0);
    const ids = await logIds(page);
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.at(-1)!).toBeLessThan(lastIdBefore);
    // Across the drop, nothing of main was lost: the log shows exactly the server's main events
    // of its range (the rows are newest first, the job's events are on another topic).
    const rows = await page.locator('[data-testid="log-row"]').evaluateAll((r) => r.map((row) => row.getAttribute('data-id')!));
    const main = (await server.store.read('0-0', 100_000)).events.filter((e) => e.topic === 'main').map((e) => e.cursor);
    const shown = [...rows].reverse().filter((id) => main.includes(id));
    expect(shown).toEqual(main.slice(main.indexOf(shown[0]!), main.indexOf(shown.at(-1)!) + 1));
  }

  const shot = testInfo.outputPath('dashboard.png');
  await tab1.screenshot({ path: shot, fullPage: true });
  await testInfo.attach('dashboard', { path: shot, contentType: 'image/png' });
});

test('tabs that know each other: who is here over two browsers, a notification shown by one tab only, a new tab with the job progress at once', async ({ browser, context, server }) => {
  const member = (page: Page, user: string) => page.locator(`[data-testid="presence-member"][data-user="${user}"]`);
  const alice = await openTabs(context, `${server.url}/?name=alice`, 3);
  for (const page of alice) {
    await expect(state(page)).toHaveAttribute('data-state', 'open');
    // Browsers from the server's presence, this browser's tabs from client.tabs.
    await expect(member(page, 'alice')).toHaveAttribute('data-browsers', '1');
    await expect(member(page, 'alice')).toHaveAttribute('data-tabs', '3');
    await expect(member(page, 'alice')).toContainText('— 1 browser, 3 tabs');
  }

  // Another browser (a context of its own: its own worker, storage and cookies).
  const other = await browser.newContext();
  try {
    const [bob] = (await openTabs(other, `${server.url}/?name=bob`, 1)) as [Page];
    for (const page of [...alice, bob]) await expect(member(page, 'bob')).toHaveAttribute('data-browsers', '1');
    await expect(member(bob, 'alice')).toHaveAttribute('data-browsers', '1');
    await expect(member(bob, 'bob')).toContainText('— 1 browser, 1 tab');

    // A notification runs its listener in one of alice's tabs (tabs: 'one'); the others say which.
    await server.publish({ type: 'notification', data: { title: 'Shown once', body: 'by one tab of each browser', level: 'info' } });
    const shown = (page: Page) => page.getByTestId('toast').filter({ hasText: 'Shown once' });
    await expect.poll(async () => (await Promise.all(alice.map((page) => shown(page).count()))).reduce((a, b) => a + b)).toBe(1);
    const counts = await Promise.all(alice.map((page) => shown(page).count()));
    const showing = alice[counts.indexOf(1)]!;
    const showingId = await shown(showing).getAttribute('data-shown-by');
    for (const page of alice.filter((page) => page !== showing)) {
      await expect(page.getByTestId('toast-elsewhere').filter({ hasText: 'Shown once' })).toHaveAttribute('data-shown-by', showingId!);
      await expect(shown(page)).toHaveCount(0);
    }
    await expect(shown(bob)).toHaveCount(1);

    // Bob's browser goes: it leaves alice's presence once the server's grace (5 s) has passed.
    await other.close();
    for (const page of alice) await expect(member(page, 'bob')).toHaveCount(0, { timeout: 15_000 });
    await expect(alice[0]!.getByTestId('presence-change')).toContainText('bob left');
  } finally {
    await other.close();
  }

  // A job runs to its end in tab 1. A tab opened afterwards knows at once the last job started
  // and, following it, shows its progress from the hub's last event: the job is done, so no new
  // event can be what it shows.
  await alice[0]!.getByTestId('start-job').click();
  await expect(alice[0]!.getByTestId('job')).toHaveAttribute('data-done', 'true', { timeout: 15_000 });
  const [late] = (await openTabs(context, `${server.url}/`, 1)) as [Page];
  await expect(late.getByTestId('job')).toHaveAttribute('data-job-id', 'job-1');
  await late.getByTestId('follow-job').click();
  await expect(late.getByTestId('job')).toHaveAttribute('data-pct', '100');
  await expect(late.getByTestId('job')).toHaveAttribute('data-first-progress', 'latest');
  // The name is the browser's: the new tab is alice's fourth.
  await expect(member(late, 'alice')).toHaveAttribute('data-tabs', '4');
});

test('leader election over long-poll: two tabs, ticks arrive', async ({ context, server }) => {
  const pages = await openTabs(context, `${server.url}/?sharing=leader&transport=long-poll`, 2);
  for (const page of pages) {
    await expect(state(page)).toHaveAttribute('data-state', 'open');
    await expect(page.getByTestId('conn-sharing')).toHaveText('leader');
    await expect(page.getByTestId('conn-transport')).toHaveText('long-poll');
  }
  for (const page of pages) {
    const clock = page.getByTestId('server-clock');
    await expect(clock).toHaveAttribute('data-tick', /^\d+$/);
    const first = Number(await clock.getAttribute('data-tick'));
    await expect.poll(async () => Number(await clock.getAttribute('data-tick'))).toBeGreaterThanOrEqual(first + 2);
    await expect(page.locator('[data-testid="log-row"][data-type="tick"]').first()).toBeVisible();
    await expect(page.getByTestId('log-gaps')).toHaveAttribute('data-count', '0');
    await expect(page.getByTestId('log-dups')).toHaveAttribute('data-count', '0');
  }
});
