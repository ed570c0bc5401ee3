import { expect } from 'vitest';
import type { Context, Tab } from './engine.js';

// The harness page (test/e2e/pages/harness.html) driven through the engine interface: it runs
// dist/ssemux.js as an app would and records what each client's listeners saw.

/** Client options as the harness passes them to createRealtimeClient. */
export interface ClientOptions {
  url: string;
  workerUrl?: string;
  sharing?: string;
  transport?: string;
  /** `'$provider'`: the function the test put in the page as `window.provider`. */
  headers?: Record<string, string> | '$provider';
  credentialsKey?: string;
  backoff?: { initialMs?: number; maxMs?: number; factor?: number };
  heartbeatTimeoutMs?: number;
  headersTimeoutMs?: number;
  topics?: string[];
}

/** A client's status as the page sees it (src/protocol/types.ts has the whole shape). */
export interface Status {
  state: string;
  sharing: string;
  transport: string;
  lastEventId: string;
  fallbackReason?: string;
  retryInMs?: number;
  error?: { code: string; message: string };
}

/** Fast backoff so tests see reconnections in well under a second. */
export const FAST = { backoff: { initialMs: 100, maxMs: 1000, factor: 2 } };

/** Platform features a harness tab can be opened without (harness.html's `?without=`). */
export type Missing = 'SharedWorker' | 'EventSource' | 'BroadcastChannel' | 'locks' | 'body';

type Harness = {
  start(options: ClientOptions, types: string[]): number;
  ids(i: number): string[];
  status(i: number): Status;
  statuses(i: number): Status[];
  close(i: number): void;
};
declare const harness: Harness;
declare const harnessReady: boolean | undefined;

/** Waits until `tab`'s harness page has loaded the library. */
export async function harnessLoaded(tab: Tab): Promise<void> {
  await expect.poll(() => tab.evaluate(() => typeof harnessReady !== 'undefined' && harnessReady === true)).toBe(true);
}

/** Opens the harness page of `origin` in a new tab of `context`, without the platform features in `without`. */
export async function openHarness(context: Context, origin: { url: string }, without: Missing[] = []): Promise<Tab> {
  const tab = await context.openTab(`${origin.url}/harness.html${without.length ? `?without=${without.join(',')}` : ''}`);
  await harnessLoaded(tab);
  return tab;
}

/** Starts a client in `tab`; returns its index in the harness. `workerUrl` defaults to /dist/ssemux-worker.js. */
export function startClient(tab: Tab, options: ClientOptions, types: string[] = ['*']): Promise<number> {
  return tab.evaluate(([o, t]) => harness.start(o, t), [options, types] as const);
}

/** The ids client `i` of `tab` received, in the order its listeners saw them. */
export const ids = (tab: Tab, i = 0): Promise<string[]> => tab.evaluate((n) => harness.ids(n), i);
/** Client `i`'s status now. */
export const status = (tab: Tab, i = 0): Promise<Status> => tab.evaluate((n) => harness.status(n), i);
/** Every status client `i` has had, oldest first (its own first, before any hub spoke, included). */
export const statuses = (tab: Tab, i = 0): Promise<Status[]> => tab.evaluate((n) => harness.statuses(n), i);
/** Closes client `i` of `tab`, as an app does. */
export const closeClient = (tab: Tab, i = 0): Promise<void> => tab.evaluate((n) => harness.close(n), i);
/** What `tab` warned on its console (harness.html records it). */
export const consoleWarnings = (tab: Tab): Promise<string[]> => tab.evaluate(() => (window as unknown as { consoleWarnings: string[] }).consoleWarnings);

/** Waits until client `i` of `tab` is open; a failure shows its whole status. */
export async function expectOpen(tab: Tab, i = 0, timeout?: number): Promise<void> {
  await expect.poll(async () => status(tab, i), { timeout }).toMatchObject({ state: 'open' });
}

/**
 * Opens `count` harness tabs, each with one client of `options`, and waits until every client is
 * open. `leaderFirst`: the first tab is open before the next is made, so it holds the leader lock.
 */
export async function openClients(
  context: Context,
  origin: { url: string },
  count: number,
  options: ClientOptions,
  { leaderFirst = false, without = [] }: { leaderFirst?: boolean; without?: Missing[] } = {},
): Promise<Tab[]> {
  const tabs: Tab[] = [];
  for (let i = 0; i < count; i++) {
    const tab = await openHarness(context, origin, without);
    await startClient(tab, options);
    tabs.push(tab);
    if (i === 0 && leaderFirst) await expectOpen(tab);
  }
  for (const tab of tabs) await expectOpen(tab);
  return tabs;
}

/** Waits until every tab's client `i` has received exactly `expected` ids: each once, in order. */
export async function expectIds(tabs: Tab[], expected: string[], i = 0): Promise<void> {
  // The status rides along so that a failure shows the client's state, not only its ids.
  for (const tab of tabs) {
    await expect.poll(async () => ({ ids: await ids(tab, i), status: await status(tab, i) }), { timeout: 20_000 }).toMatchObject({ ids: expected });
  }
}
