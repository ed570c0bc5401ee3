// Chromium for the benchmark: Debian's build driven by Playwright, started as a browser server
// so that we know its process id (the root of the process tree whose CPU time we report).
import { chromium } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../../test/support/chromium.js';
import { sleep } from './stats.mjs';

export async function launchBrowser() {
  const server = await chromium.launchServer({
    executablePath: chromiumPath(),
    // The HTTP/2 rows use a self-signed certificate made at run time (bench/lib/http2-server.mjs).
    args: [...chromiumArgs, '--ignore-certificate-errors'],
    headless: true,
  });
  const browser = await chromium.connect(server.wsEndpoint());
  return {
    browser,
    pid: server.process().pid,
    version: browser.version(),
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}

/**
 * Opens `count` tabs, tab i on `urlFor(i)` (or on `urlFor` when it is a string), one after
 * another, each waited for until its page says its stream is open. Once one tab does not get
 * there within `openTimeoutMs` (HTTP/1.1's 6 connections per host are taken, so its page or its
 * stream waits for a connection that never frees), the rest are opened without waiting, as a
 * user would go on opening tabs.
 * @returns {Promise<{ page: import('@playwright/test').Page, loaded: boolean }[]>}
 */
export async function openTabs(context, urlFor, count, { openTimeoutMs = 8_000 } = {}) {
  const tabs = [];
  let blocked = false;
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    const tab = { page, loaded: false };
    tabs.push(tab);
    const loading = page.goto(typeof urlFor === 'function' ? urlFor(i) : urlFor, { timeout: 0 }).then(
      () => (tab.loaded = true),
      () => false, // the context closed while the page still waited for a connection
    );
    if (blocked) continue;
    const opened = Promise.race([
      loading.then((ok) => ok && page.waitForFunction(() => window.benchRecorder?.record.state === 'open', null, { timeout: openTimeoutMs, polling: 50 }).then(() => true, () => false)),
      sleep(openTimeoutMs).then(() => false),
    ]);
    if (!(await opened)) blocked = true;
  }
  if (blocked) await sleep(1_000); // late ones may still connect; they count if they did by then
  return tabs;
}

/** `page.evaluate` on loaded tabs only (a tab still waiting for its page has no bench to ask). */
export function askTabs(tabs, fn, arg) {
  return Promise.all(tabs.filter((t) => t.loaded).map((t) => t.page.evaluate(fn, arg)));
}
