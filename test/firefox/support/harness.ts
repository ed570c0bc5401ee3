import type { BrowserContext, Page } from 'puppeteer-core';
import { expect } from 'vitest';
import type { HarnessOptions } from '../../e2e/fixtures.js';

// The Playwright suite's harness page (test/e2e/pages/harness.html), driven from puppeteer: it
// runs dist/ssemux.js as an app would and records what each client's listeners saw.

/** Client options as the harness takes them; `workerUrl` defaults to /dist/ssemux-worker.js. */
export type ClientOptions = HarnessOptions & { workerUrl?: string };

/** A client's status as the page sees it (src/protocol/types.ts has the whole shape). */
export interface Status {
  state: string;
  sharing: string;
  transport: string;
  lastEventId: string;
  fallbackReason?: string;
  error?: { code: string; message: string };
}

/** Fast backoff so tests see reconnections in well under a second. */
export const FAST = { backoff: { initialMs: 100, maxMs: 1000, factor: 2 } };

type Harness = {
  start(options: ClientOptions, types: string[]): number;
  ids(i: number): string[];
  status(i: number): Status;
  statuses(i: number): Status[];
  close(i: number): void;
};
declare const harness: Harness;
declare const harnessReady: boolean | undefined;

/**
 * Opens the harness page of `origin` in a new tab of `context` and waits until it is ready.
 * `before` runs in the page before any of its scripts (to take platform features away).
 */
export async function openHarness(context: BrowserContext, origin: { url: string }, before?: () => void): Promise<Page> {
  const page = await context.newPage();
  if (before) await page.evaluateOnNewDocument(before);
  await page.goto(`${origin.url}/harness.html`);
  await page.waitForFunction(() => typeof harnessReady !== 'undefined' && harnessReady === true);
  return page;
}

/** Starts a client in `page`; returns its index in the harness. */
export function startClient(page: Page, options: ClientOptions, types: string[] = ['*']): Promise<number> {
  return page.evaluate((o, t) => harness.start(o, t), options, types);
}

/** The ids client `i` of `page` received, in the order its listeners saw them. */
export const ids = (page: Page, i = 0): Promise<string[]> => page.evaluate((n) => harness.ids(n), i);
/** Client `i`'s status now. */
export const status = (page: Page, i = 0): Promise<Status> => page.evaluate((n) => harness.status(n), i);
/** Every status client `i` has had, oldest first. */
export const statuses = (page: Page, i = 0): Promise<Status[]> => page.evaluate((n) => harness.statuses(n), i);
/** Closes client `i` of `page`, as an app does. */
export const closeClient = (page: Page, i = 0): Promise<void> => page.evaluate((n) => harness.close(n), i);

/**
 * Opens `count` harness tabs, each with one client of `options`, and waits until every client is
 * open. `leaderFirst`: the first tab is open before the next is made, so it holds the leader lock.
 */
export async function openClients(
  context: BrowserContext,
  origin: { url: string },
  count: number,
  options: ClientOptions,
  { leaderFirst = false, before }: { leaderFirst?: boolean; before?: () => void } = {},
): Promise<Page[]> {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) {
    const page = await openHarness(context, origin, before);
    await startClient(page, options);
    pages.push(page);
    if (i === 0 && leaderFirst) await expect.poll(async () => (await status(page)).state).toBe('open');
  }
  for (const page of pages) await expect.poll(async () => (await status(page)).state).toBe('open');
  return pages;
}

/** Waits until every page's client `i` has received exactly `expected` ids: each once, in order. */
export async function expectIds(pages: Page[], expected: string[], i = 0): Promise<void> {
  // The status rides along so that a failure shows the client's state, not only its ids.
  for (const page of pages) {
    await expect.poll(async () => ({ ids: await ids(page, i), status: await status(page, i) }), { timeout: 20_000 }).toMatchObject({ ids: expected });
  }
}
