import { chromium, type Browser, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../../support/chromium.js';
import { rendererPids } from '../../support/processes.js';
import type { Context, Engine, Tab } from '../engine.js';

// Debian's Chromium, driven by Playwright's library (the engine the Playwright suite runs, here
// under the same runner and driver interface as the other engines). A context is a Playwright
// browser context; the SharedWorker is seen and ended over CDP; a tab is killed by SIGKILL to the
// renderer process it added (headless Chromium gives each tab its own).

/** Starts one headless Chromium; each context is a browser context of it. */
export async function launchChromium(): Promise<Engine> {
  // No spare renderer warmed up in advance: the process a new tab adds must be the tab's own.
  const args = [...chromiumArgs, '--disable-features=SpareRendererForSitePerProcess'];
  const server = await chromium.launchServer({ executablePath: chromiumPath(), args, headless: true });
  const browser = await chromium.connect(server.wsEndpoint());
  const pid = server.process().pid!;
  return {
    name: 'chromium',
    killableWorkerUrl: '/dist/ssemux-worker.js',
    fetchWaitsForBody: false,
    workerMayNotRestart: false,
    newContext: async () => newContext(browser, pid),
    close: async () => {
      await browser.close();
      await server.close();
    },
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

async function newContext(browser: Browser, browserPid: number): Promise<Context> {
  const context = await browser.newContext();
  return {
    async openTab(url) {
      // Tabs open one at a time: a renderer that appears meanwhile is this tab's.
      const before = new Set(rendererPids(browserPid));
      const page = await context.newPage();
      await page.goto(url);
      const added = rendererPids(browserPid).filter((pid) => !before.has(pid));
      return tab(page, added.length === 1 ? added[0] : undefined, added.length);
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

function tab(page: Page, pid: number | undefined, added: number): Tab {
  return {
    evaluate: <A, R>(fn: (arg: A) => R | Promise<R>, arg?: A) => page.evaluate(fn as (arg: unknown) => R, arg as unknown),
    reload: () => page.reload().then(() => undefined),
    close: () => page.close(),
    async kill() {
      // A context's first page also brings up the renderers every context starts with.
      if (pid === undefined) throw new Error(`the tab added ${added} renderer processes, not one of its own`);
      process.kill(pid, 'SIGKILL');
    },
  };
}
