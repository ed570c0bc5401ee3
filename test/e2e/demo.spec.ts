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
