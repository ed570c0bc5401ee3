import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { startServer, stats, type DemoServer } from '../support/test-server.js';

export { expect };
export { login, publish, publishOne, startServer, stats, type DemoServer } from '../support/test-server.js';

/** Client options the harness passes to createRealtimeClient (see pages/harness.html). */
export interface HarnessOptions {
  url: string;
  sharing?: string;
  transport?: string;
  /** `'$provider'`: the function the test put in the page as `window.provider`. */
  headers?: Record<string, string> | '$provider';
  credentialsKey?: string;
  parse?: 'json' | 'text';
  backoff?: { initialMs?: number; maxMs?: number; factor?: number };
  heartbeatTimeoutMs?: number;
  headersTimeoutMs?: number;
  maxConnections?: number;
  topics?: string[];
  earlyStream?: boolean;
}

/** Fast backoff so tests see reconnections in well under a second. */
export const FAST = { backoff: { initialMs: 100, maxMs: 1000, factor: 2 } };

/** Opens the harness page in a new tab of `context` and waits until it is ready. */
export async function openHarness(context: BrowserContext, server: DemoServer): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.url}/harness.html`);
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true);
  return page;
}

/** Starts a client in `page`; returns its index in the harness. */
export function startClient(page: Page, options: HarnessOptions, types: string[] = ['*']): Promise<number> {
  return page.evaluate(([o, t]) => (window as any).harness.start(o, t), [options, types] as const);
}

export const ids = (page: Page, i = 0): Promise<string[]> => page.evaluate((n) => (window as any).harness.ids(n), i);
export const received = (page: Page, i = 0): Promise<{ type: string; id: string; data: unknown; text: string; at: number; via: string }[]> =>
  page.evaluate((n) => (window as any).harness.received(n), i);
export const status = (page: Page, i = 0): Promise<any> => page.evaluate((n) => (window as any).harness.status(n), i);

/** Every event of `topic` in the server's log, oldest first: what a tab of that topic should end up with. */
export async function logged(server: DemoServer, topic: string, types?: string[]): Promise<string[]> {
  const { events } = await server.store.read('0-0', 1_000_000);
  return events.filter((e) => e.topic === topic && (!types || types.includes(e.type))).map((e) => e.cursor);
}

/** Every event of the log, oldest first, with its topic. */
export async function logEvents(server: DemoServer): Promise<{ cursor: string; topic: string }[]> {
  return (await server.store.read('0-0', 1_000_000)).events.map(({ cursor, topic }) => ({ cursor, topic }));
}

/**
 * Checks what a tab got of `topic` against the log (`all`, oldest first). Cursors name moments of
 * the log: `added` (the log ended there when the tab added the topic), `dropped` (... when it
 * dropped it), `silentAfter` (nothing of the topic published after this may arrive). Owed: every
 * event of the topic after `added` and up to `dropped`. Around `added` it may also have got the
 * events right before (it joined where its stream stood), around `dropped` the ones right after
 * (they were in flight). Always: no duplicate, log order.
 */
export function expectTopic(
  got: string[],
  all: { cursor: string; topic: string }[],
  topic: string,
  moments: { added?: string; dropped?: string; silentAfter?: string } = {},
): void {
  const at = (cursor: string | undefined, fallback: number) => (cursor === undefined ? fallback : all.findIndex((e) => e.cursor === cursor));
  const log = all.filter((e) => e.topic === topic).map((e) => e.cursor);
  const index = new Map(all.map((e, i) => [e.cursor, i]));
  const from = at(moments.added, -1);
  const to = at(moments.dropped, all.length);
  const silent = at(moments.silentAfter, all.length);
  expect(new Set(got).size, `duplicates of ${topic}`).toBe(got.length);
  expect(got, `${topic} in log order`).toEqual(log.filter((c) => got.includes(c)));
  const owed = log.filter((c) => index.get(c)! > from && index.get(c)! <= to);
  expect(got.filter((c) => owed.includes(c)), `every ${topic} event owed`).toEqual(owed);
  const before = log.filter((c) => index.get(c)! <= from);
  const early = got.filter((c) => before.includes(c));
  expect(early, `${topic} before it was added: only the run right before`).toEqual(before.slice(before.length - early.length));
  expect(got.filter((c) => index.get(c)! > silent), `${topic} long after it was dropped`).toEqual([]);
}

/** Duplicates and losses of `got` against `expected`, and whether what arrived came in order. */
export function tally(got: string[], expected: string[]): { duplicates: number; lost: number; inOrder: boolean } {
  const want = new Set(expected);
  const seen = new Set<string>();
  let duplicates = 0;
  for (const id of got) if (seen.has(id)) duplicates++;
  else seen.add(id);
  const lost = [...want].filter((id) => !seen.has(id)).length;
  const firsts = got.filter((id, i) => got.indexOf(id) === i && want.has(id));
  const inOrder = firsts.every((id, i) => i === 0 || expected.indexOf(firsts[i - 1]!) < expected.indexOf(id));
  return { duplicates, lost, inOrder };
}

/** Publishes a burst of `count` events of `type` on `stream` at `rate` per second (the server paces it). */
export async function burst(server: DemoServer, stream: string, count: number, rate: number, type = 'message'): Promise<void> {
  const res = await fetch(`${server.url}/publish/burst`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count, rate, type, stream }),
  });
  if (res.status !== 202) throw new Error(`burst refused: ${res.status} ${await res.text()}`);
}

/** Resolves when the server's latest burst has sent every event. */
export async function burstDone(server: DemoServer): Promise<void> {
  await expect.poll(async () => ((await stats(server)) as unknown as { burst?: { done: boolean } }).burst?.done, { timeout: 30_000 }).toBe(true);
}

/** Waits until every page's client `i` has received exactly `expected` ids, in order. */
export async function expectIds(pages: Page[], expected: string[], i = 0): Promise<void> {
  // The status rides along so that a failure shows the client's state, not only its ids.
  for (const page of pages) {
    await expect
      .poll(async () => ({ ids: await ids(page, i), status: await status(page, i) }), { timeout: 20_000 })
      .toMatchObject({ ids: expected });
  }
}

export const test = base.extend<{ server: DemoServer; authServer: DemoServer }>({
  server: async ({}, use) => {
    const server = await startServer();
    await use(server);
    await server.close();
  },
  /** A server that requires a token (see `login`). */
  authServer: async ({}, use) => {
    const server = await startServer({ auth: true });
    await use(server);
    await server.close();
  },
});
