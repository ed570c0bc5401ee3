import type { Browser, BrowserContext } from 'puppeteer-core';
import { test as base } from 'vitest';
import { launchFirefox } from './launch.js';
import { startServer, type DemoServer } from './server.js';

export { expect } from 'vitest';

/**
 * Vitest's `test` with what every Firefox test needs: `browser`, one Firefox per file; `context`,
 * a fresh browser context (its own storage, locks and channels) per test; `server`, a fresh demo
 * server per test. Each is closed after use, also when the test fails.
 */
export const test = base
  .extend('browser', { scope: 'file' }, async ({}, { onCleanup }): Promise<Browser> => {
    const browser = await launchFirefox();
    onCleanup(() => browser.close());
    return browser;
  })
  .extend('context', async ({ browser }, { onCleanup }): Promise<BrowserContext> => {
    const context = await browser.createBrowserContext();
    onCleanup(() => context.close());
    return context;
  })
  .extend('server', async ({}, { onCleanup }): Promise<DemoServer> => {
    const server = await startServer();
    onCleanup(() => server.close());
    return server;
  });
