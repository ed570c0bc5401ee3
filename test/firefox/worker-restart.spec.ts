import { FAST, expectIds, openClients, status, statuses } from './support/harness.js';
import { expect, test } from './support/fixtures.js';
import { publish, stats } from './support/server.js';
import { KILLABLE_WORKER, killWorker, sharedWorkers } from './support/workers.js';

// The SharedWorker dies while its tabs live on (test/e2e/shared-worker.spec.ts in Chromium, which
// closes the worker's target over CDP). Here the worker ends itself with close() when the test
// asks (pages/killable-worker.js): WebDriver BiDi has no command that ends a worker.

const SHARED = { sharing: 'shared-worker', workerUrl: KILLABLE_WORKER, ...FAST } as const;

test('the worker restarts: every tab notices, resubscribes and resumes with nothing lost or doubled', async ({ browser, context, server }) => {
  const stream = 'restart-worker';
  const pages = await openClients(context, server, 3, { url: `/events?stream=${stream}`, ...SHARED });
  const before = await publish(server, stream, 4);
  await expectIds(pages, before);
  const workers = await sharedWorkers(browser);
  expect(workers).toEqual([{ realm: expect.any(String), url: `${server.url}${KILLABLE_WORKER}` }]);
  const heard = await Promise.all(pages.map(async (page) => (await statuses(page)).length));

  await killWorker(pages[0]!);
  // Every tab notices on its own (the worker's life lock is released), not through another tab.
  for (const [i, page] of pages.entries()) {
    await expect.poll(async () => (await statuses(page)).slice(heard[i]).map((s) => s.state)).toContain('reconnecting');
  }
  // Events published while no worker holds the stream must still arrive, from the replay.
  const during = await publish(server, stream, 3);
  // A new worker (another realm), and the tabs back on it. A failure shows what the tab reports.
  await expect
    .poll(async () => {
      const s = await status(pages[0]!);
      const restarted = (await sharedWorkers(browser)).filter((w) => w.realm !== workers[0]!.realm);
      return { workers: restarted.length, state: s.state, error: s.error?.message };
    })
    .toEqual({ workers: 1, state: 'open' });
  const after = await publish(server, stream, 3);
  await expectIds(pages, [...before, ...during, ...after]);
  expect((await status(pages[0]!)).sharing).toBe('shared-worker');
  await expect.poll(async () => (await stats(server)).perStream[stream]?.open).toBe(1);
});
