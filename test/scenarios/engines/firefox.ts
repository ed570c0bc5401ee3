import type { Browser, Page } from 'puppeteer-core';
import { launchFirefox } from '../../firefox/support/launch.js';
import { KILLABLE_WORKER, killWorker, sharedWorkers } from '../../firefox/support/workers.js';
import type { Context, Engine, Tab } from '../engine.js';

// Debian's Firefox ESR, driven by puppeteer-core over WebDriver BiDi (test/firefox/README.md):
// a context is a BiDi user context. BiDi can list a worker's realm but not end it, so the tabs
// load a copy of the worker that ends itself when asked (test/firefox/pages/killable-worker.js).

/** Starts one headless Firefox; each context is a browser context of it. */
export async function launchFirefoxEngine(): Promise<Engine> {
  const browser = await launchFirefox();
  return {
    name: 'firefox',
    killableWorkerUrl: KILLABLE_WORKER,
    fetchWaitsForBody: true,
    workerMayNotRestart: true,
    newContext: async () => newContext(browser),
    close: () => browser.close(),
  };
}

async function newContext(browser: Browser): Promise<Context> {
  const context = await browser.createBrowserContext();
  const open = new Set<Page>();
  return {
    async openTab(url) {
      const page = await context.newPage();
      open.add(page);
      page.once('close', () => open.delete(page));
      await page.goto(url);
      return tab(page);
    },
    // One context runs at a time in this browser: its worker realms are all the browser's.
    sharedWorkers: async () => (await sharedWorkers(browser)).map((w) => w.realm),
    async killWorker() {
      const [page] = open;
      if (!page) throw new Error('no open tab to ask the worker to end from');
      // Only the killable copy can be ended: a worker of another URL would go on unharmed.
      const workers = await sharedWorkers(browser);
      const url = new URL(KILLABLE_WORKER, page.url()).href;
      if (workers.length !== 1 || workers[0]!.url !== url) throw new Error(`expected one SharedWorker of ${url}, found ${JSON.stringify(workers)}`);
      await killWorker(page);
    },
    close: () => context.close(),
  };
}

function tab(page: Page): Tab {
  return {
    evaluate: <A, R>(fn: (arg: A) => R | Promise<R>, arg?: A) => page.evaluate(fn as (arg: unknown) => R, arg as unknown) as Promise<R>,
    reload: () => page.reload().then(() => undefined),
    close: () => page.close(),
    kill: () => Promise.reject(new Error('Firefox runs the tabs of an origin in one content process: no tab can crash alone')),
  };
}
