import { chromium, type Browser, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../../support/chromium.js';
import type { Context, Engine, Tab } from '../engine.js';

// Debian's Chromium, driven by Playwright's library (the engine the Playwright suite runs, here
// under the same runner and driver interface as the other engines). A context is a Playwright
// browser context; the SharedWorker is seen and ended over CDP.

/** Starts one headless Chromium; each context is a browser context of it. */
export async function launchChromium(): Promise<Engine> {
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true });
  return {
    name: 'chromium',
    killableWorkerUrl: '/dist/ssemux-worker.js',
    workerMayNotRestart: false,
    newContext: async () => newContext(browser),
    close: () => browser.close(),
  };
}

async function sharedWorkerTargets(browser: Browser): Promise<string[]> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
    return targetInfos.filter((t) => t.type === 'shared_worker').map((t) => t.targetId);
  } finally {
    await cdp.detach();
  }
}

async function newContext(browser: Browser): Promise<Context> {
  const context = await browser.newContext();
  return {
    async openTab(url) {
      const page = await context.newPage();
      await page.goto(url);
      return tab(page);
    },
    // One context runs at a time in this browser: its workers are all the browser's.
    sharedWorkers: () => sharedWorkerTargets(browser),
    async killWorker() {
      const workers = await sharedWorkerTargets(browser);
      if (workers.length !== 1) throw new Error(`expected one SharedWorker, found ${workers.length}`);
      const cdp = await browser.newBrowserCDPSession();
      await cdp.send('Target.closeTarget', { targetId: workers[0]! });
      await cdp.detach();
    },
    close: () => context.close(),
  };
}

function tab(page: Page): Tab {
  return {
    evaluate: <A, R>(fn: (arg: A) => R | Promise<R>, arg?: A) => page.evaluate(fn as (arg: A) => R, arg as A),
    reload: () => page.reload().then(() => undefined),
    close: () => page.close(),
  };
}
