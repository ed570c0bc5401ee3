import type { BrowserContext, Page } from 'puppeteer-core';
import { FAST, expectIds, openClients, status } from './support/harness.js';
import { expect, test } from './support/fixtures.js';
import { publish, stats, type DemoServer } from './support/server.js';

// Without SharedWorker the tabs elect a leader (Web Locks) that holds the one upstream and relays
// over BroadcastChannel (test/e2e/leader.spec.ts in Chromium).

/** Runs in each page before its scripts: a browser without SharedWorker. */
const withoutSharedWorker = () => {
  delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
};

const openTabs = (context: BrowserContext, server: DemoServer, stream: string, n: number) =>
  openClients(context, server, n, { url: `/events?stream=${stream}`, sharing: 'auto', ...FAST }, { leaderFirst: true, before: withoutSharedWorker });

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Publishes one event every 20 ms until `stop()`; returns the ids. A takeover that loses or
 * repeats an event shows in the ids the followers got.
 */
function publishSteadily(server: DemoServer, stream: string) {
  const sent: string[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      sent.push(...(await publish(server, stream, 1)));
      await pause(20);
    }
  })();
  return { sent, stop: async () => ((running = false), await done, sent) };
}

/**
 * While events keep coming, `loseLeader()` ends the leader; asserts that the server sees a new
 * upstream within 2 s (the time goes to `annotate`, as `takeover-ms`) and that `followers` got
 * every event once, in order.
 */
async function expectTakeover(
  server: DemoServer,
  stream: string,
  followers: Page[],
  loseLeader: () => Promise<void>,
  annotate: (message: string, type: string) => Promise<unknown>,
): Promise<void> {
  const first = await publish(server, stream, 3);
  await expectIds(followers, first);
  const steady = publishSteadily(server, stream);
  // Events in flight while the leader goes: the takeover must neither lose nor repeat them.
  await pause(200);
  const t0 = Date.now();
  await loseLeader();
  await expect
    .poll(
      async () => {
        const s = await stats(server);
        return s.connections >= 2 && s.perStream[stream]?.open === 1;
      },
      { timeout: 5000, interval: 25 },
    )
    .toBe(true);
  const ms = Date.now() - t0;
  await annotate(String(ms), 'takeover-ms');
  expect(ms).toBeLessThan(2000);
  await pause(300);
  const sent = await steady.stop();
  await expectIds(followers, [...first, ...sent]);
}

test('6 tabs without SharedWorker: one leader, one upstream, every event to every tab', async ({ context, server }) => {
  const stream = 'leader-six';
  const pages = await openTabs(context, server, stream, 6);
  for (const page of pages) expect((await status(page)).sharing).toBe('leader');
  expect((await status(pages[0]!)).fallbackReason).toMatch(/SharedWorker/);
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
  const sent = await publish(server, stream, 20);
  await expectIds(pages, sent);
  expect((await stats(server)).connections).toBe(1);
});

test('the leader tab closes: a follower takes over within 2 s, nothing lost or doubled', async ({ context, server, annotate }) => {
  const stream = 'leader-close';
  const [leader, ...followers] = await openTabs(context, server, stream, 6);
  await expectTakeover(server, stream, followers, () => leader!.close(), annotate);
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
});
