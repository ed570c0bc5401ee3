import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, ids, openHarness, publish, status, test } from './fixtures.js';

/**
 * A workerUrl that serves something else than the ssemux worker: every tab must learn it within a
 * second and fall back (to leader election here), and its console must say once what was wrong.
 * `workerUrl` is made in the page: a blob: URL exists only there.
 */
async function startWith(page: Page, workerUrl: string, stream: string): Promise<number> {
  return page.evaluate(
    ([w, s]) => {
      const url = w === 'blob' ? URL.createObjectURL(new Blob(['self.onconnect = () => {};'], { type: 'text/javascript' })) : w;
      const started = performance.now();
      const client = (window as any).ssemux.createRealtimeClient({ url: `/events?stream=${s}`, workerUrl: url, backoff: { initialMs: 100, maxMs: 1000 } });
      const got: string[] = [];
      client.on('*', (m: { lastEventId: string }) => got.push(m.lastEventId));
      (window as any).workerUrlCase = { client, got };
      return new Promise<number>((resolve) => {
        const check = () => client.status.sharing !== 'shared-worker' && resolve(performance.now() - started);
        client.onStatus(check);
        check();
      });
    },
    [workerUrl, stream] as const,
  );
}

const cases = [
  ['an HTML page (a single-page app answers every path)', '/harness.html', /serves an HTML page/],
  ['a 404', '/no-such-worker.js', /answers 404/],
  ['another script', '/other-worker.js', /serves a script that is not the ssemux worker/],
  ['a data: URL (assetsInlineLimit inlined the worker)', 'data:text/javascript,self.onconnect=()=>{}', /data: URL .*assetsInlineLimit/],
  ['a blob: URL', 'blob', /blob: URL/],
] as const;

for (const [what, workerUrl, says] of cases) {
  test(`a worker URL that serves ${what}: three tabs fall back within a second, each console says so once, events flow`, async ({ context, server }) => {
    const stream = `worker-url-${cases.findIndex((c) => c[0] === what)}`;
    const pages: Page[] = [];
    const warnings = new Map<Page, string[]>();
    for (let i = 0; i < 3; i++) {
      const page = await openHarness(context, server);
      warnings.set(page, []);
      page.on('console', (m) => m.type() === 'warning' && warnings.get(page)!.push(m.text()));
      pages.push(page);
    }
    for (const page of pages) {
      const ms = await startWith(page, workerUrl, stream);
      expect(ms, `${what}: fell back after ${Math.round(ms)} ms`).toBeLessThan(1000);
    }
    for (const page of pages) {
      const status = await page.evaluate(() => (window as any).workerUrlCase.client.status);
      expect(status.sharing).toBe('leader');
      expect(status.fallbackReason).toMatch(says);
      await expect.poll(() => page.evaluate(() => (window as any).workerUrlCase.client.status.state)).toBe('open');
    }
    const sent = await publish(server, stream, 2);
    for (const page of pages) await expect.poll(() => page.evaluate(() => (window as any).workerUrlCase.got)).toEqual(sent);
    for (const page of pages) {
      const lines = warnings.get(page)!.filter((line) => line.startsWith('ssemux:'));
      expect(lines, what).toHaveLength(1);
      expect(lines[0]).toMatch(says);
      expect(lines[0]).toMatch(/new URL\('ssemux\/worker', import\.meta\.url\)/);
      expect(lines[0]).not.toContain('\n');
    }
  });
}

test('on a page with <base href>, a relative url and workerUrl resolve against it, as fetch and new SharedWorker do', async ({ context, server }) => {
  // The harness served at a path of its own, with a base that points back at the root: resolved
  // against the page's own URL, `events` and `dist/ssemux-worker.js` would be under /app/deep/.
  const harness = readFileSync(fileURLToPath(new URL('./pages/harness.html', import.meta.url)), 'utf8').replace('<head>', '<head><base href="/">');
  await context.route(`${server.url}/app/deep/page.html`, (route) => route.fulfill({ contentType: 'text/html', body: harness }));
  const pages: Page[] = [];
  for (let i = 0; i < 2; i++) {
    const page = await context.newPage();
    await page.goto(`${server.url}/app/deep/page.html`);
    await page.waitForFunction(() => (window as any).harnessReady === true);
    await page.evaluate(() => (window as any).harness.start({ url: 'events?stream=based', workerUrl: 'dist/ssemux-worker.js' }));
    pages.push(page);
  }
  for (const page of pages) await expect.poll(() => status(page)).toMatchObject({ state: 'open', sharing: 'shared-worker' });
  const sent = await publish(server, 'based', 3);
  for (const page of pages) await expect.poll(() => ids(page)).toEqual(sent);
  expect((await (await fetch(`${server.url}/stats`)).json()).openStreams).toBe(1);
});
