import { chromium, type Browser, type BrowserServer, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../support/chromium.js';
import { rendererPids } from '../support/processes.js';

/**
 * A browser of the test's own, so its renderer processes can be told apart from other tests':
 * the way to crash one tab for real is to SIGKILL the renderer behind it.
 */
export async function launchOwnBrowser(extraArgs: string[] = []): Promise<{ browser: Browser; server: BrowserServer; pid: number }> {
  // No spare renderer warmed up in advance: the process a new tab adds must be the tab's own.
  const args = [...chromiumArgs, '--disable-features=SpareRendererForSitePerProcess', ...extraArgs];
  const server = await chromium.launchServer({ executablePath: chromiumPath(), args, headless: true });
  const browser = await chromium.connect(server.wsEndpoint());
  return { browser, server, pid: server.process().pid! };
}

/**
 * Opens a tab with `open` and returns it with the pid of the one renderer process it added.
 * Nothing else may start a renderer in that browser meanwhile.
 */
export async function openTrackedTab(browserPid: number, open: () => Promise<Page>): Promise<{ page: Page; pid: number }> {
  const before = new Set(rendererPids(browserPid));
  const page = await open();
  const added = rendererPids(browserPid).filter((pid) => !before.has(pid));
  if (added.length !== 1) throw new Error(`Expected one new renderer for the tab, found ${added.length}`);
  return { page, pid: added[0]! };
}
