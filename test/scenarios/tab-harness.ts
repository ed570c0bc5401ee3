import { expect } from 'vitest';
import { postJson, stats, tallyRuns, type DemoServer, type ReportedRun } from '../support/test-server.js';
import type { Tab } from './engine.js';

// What harness.html offers for tabs that know each other (`tabs: 'one'`, `latest: true`,
// `client.tabs`), driven through the engine interface, and what the server tells of them.

/** A listener's call as its page recorded it; `at` is the page's `performance.now()`. */
export interface Heard {
  id: string;
  data: unknown;
  latest: boolean;
  at: number;
}

/** `client.tabs` as the page heard it change; `at` is the page's `Date.now()`. */
export interface TabsChange {
  count: number;
  visible: number;
  at: number;
}

/** How a listener listens: harness.html's `listen` options. */
export interface ListenOptions {
  tabs?: 'one' | 'all';
  latest?: boolean;
  /** The tab's name: every call is also reported to the server's record route (`recordRuns`). */
  report?: string;
}

type TabsHarness = {
  listen(i: number, type: string, options: ListenOptions): { index: number; calledAt: number };
  heard(i: number, index: number): Heard[];
  tabs(i: number): { count: number; visible: number };
  tabChanges(i: number): TabsChange[];
  stallNext(ms: number): void;
};
declare const harness: TabsHarness;

/**
 * Adds a listener of `type` to client `i` of `tab`; resolves with its index (for {@link heard})
 * and the page's `performance.now()` just before `on()`.
 */
export const listen = (tab: Tab, type: string, options: ListenOptions, i = 0): Promise<{ index: number; calledAt: number }> =>
  tab.evaluate(([n, t, o]) => harness.listen(n, t, o), [i, type, options] as const);

/** What listener `index` of client `i` of `tab` heard so far. */
export const heard = (tab: Tab, index: number, i = 0): Promise<Heard[]> => tab.evaluate(([n, l]) => harness.heard(n, l), [i, index] as const);

/** The next call of a `listen` listener in `tab` works `ms` after reporting, so that the tab can be ended while it runs. */
export const stallNext = (tab: Tab, ms: number): Promise<void> => tab.evaluate((n) => harness.stallNext(n), ms);

/** `client.tabs` of client `i` of `tab` now. */
export const tabsOf = (tab: Tab, i = 0): Promise<{ count: number; visible: number }> => tab.evaluate((n) => harness.tabs(n), i);

/** Every change of `client.tabs` client `i` of `tab` heard. */
export const tabChanges = (tab: Tab, i = 0): Promise<TabsChange[]> => tab.evaluate((n) => harness.tabChanges(n), i);

/**
 * Publishes `count` events of `type` on `stream` at `rate` per second, paced by the server
 * (demo-server/burst.js), and resolves at once; `burstSent` tells how far it got.
 */
export async function startBurst(server: DemoServer, stream: string, count: number, rate: number, type: string): Promise<void> {
  await postJson(server, '/publish/burst', { stream, count, rate, type });
}

/** How many events the server's current burst has published, and whether it is done. */
export async function burstSent(server: DemoServer): Promise<{ sent: number; done: boolean }> {
  const { burst } = (await stats(server)) as unknown as { burst: { sent: number; done: boolean } | null };
  return { sent: burst?.sent ?? 0, done: burst?.done ?? false };
}

/** Waits until the server's burst has published every event; resolves with the ids of `stream`'s events of `type`, oldest first. */
export async function burstIds(server: DemoServer, stream: string, type: string): Promise<string[]> {
  await expect.poll(async () => (await burstSent(server)).done, { timeout: 30_000 }).toBe(true);
  const { events } = await server.store.read('0-0', 1_000_000);
  return events.filter((e) => e.topic === stream && e.type === type).map((e) => e.cursor);
}

/** Waits until every event of `sent` has a reported run (or fails after `timeout`, showing the tally). */
export async function expectEveryRun(runs: readonly ReportedRun[], sent: readonly string[], timeout = 20_000): Promise<void> {
  await expect.poll(() => tallyRuns(runs, sent).lost, { timeout }).toBe(0);
}

/** The median and the largest of `values`, rounded to tenths. */
export function medianAndMax(values: readonly number[]): { median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { median: round(median), max: round(sorted.at(-1)!) };
}
