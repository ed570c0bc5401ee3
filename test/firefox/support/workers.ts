import type { Browser, Page } from 'puppeteer-core';

/** The test's own copy of the worker URL: the ssemux worker that a test can end (pages/killable-worker.js). */
export const KILLABLE_WORKER = '/killable-worker.js';

/** The slice of puppeteer's BiDi connection used here: it is not in puppeteer's public types. */
interface BidiConnection {
  send(method: 'script.getRealms', params: { type: 'shared-worker' }): Promise<{ result: { realms: { realm: string; origin: string }[] } }>;
}

/**
 * The SharedWorkers running in `browser`, by BiDi realm id and script URL: what Chromium's suite
 * reads from CDP's Target.getTargets. A restarted worker is a new realm.
 */
export async function sharedWorkers(browser: Browser): Promise<{ realm: string; url: string }[]> {
  const connection = (browser as unknown as { connection: BidiConnection }).connection;
  const { result } = await connection.send('script.getRealms', { type: 'shared-worker' });
  // Firefox names a worker realm's origin by the worker's script URL.
  return result.realms.map(({ realm, origin }) => ({ realm, url: origin }));
}

/** Ends the worker at {@link KILLABLE_WORKER} from `page`, an open tab of its origin. */
export async function killWorker(page: Page): Promise<void> {
  await page.evaluate(() => {
    const channel = new BroadcastChannel('ssemux-test:kill-worker');
    channel.postMessage('close');
    channel.close();
  });
}
