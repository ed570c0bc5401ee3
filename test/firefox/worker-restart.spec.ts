import { FAST, expectIds, openClients, status, statuses } from './support/harness.js';
import { expect, test } from './support/fixtures.js';
import { publish, stats } from './support/server.js';
import { KILLABLE_WORKER, killWorker, sharedWorkers } from './support/workers.js';

// The SharedWorker dies while its tabs live on (test/e2e/shared-worker.spec.ts in Chromium, which
// closes the worker's target over CDP). Here the worker ends itself with close() when the test
// asks (pages/killable-worker.js): WebDriver BiDi has no command that ends a worker.

// 'auto', as an app has it: should Firefox keep the dead worker half alive (README), the tabs
// give up on it 10 s after its death and go on through leader election.
const SHARED = { sharing: 'auto', workerUrl: KILLABLE_WORKER, ...FAST } as const;

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
  // A new worker (another realm) and the tabs back on it; or, when Firefox never lets the dead
  // worker go (1 run in about 15 here), every tab on leader election 10 s after the death.
  // A failure shows what the tab reports.
  await expect
    .poll(
      async () => {
        const s = await status(pages[0]!);
        const restarted = (await sharedWorkers(browser)).filter((w) => w.realm !== workers[0]!.realm);
        return { path: restarted.length === 1 ? 'new worker' : s.sharing, state: s.state, error: s.error?.message };
      },
      { timeout: 20_000 },
    )
    .toMatchObject({ path: expect.stringMatching(/^(new worker|leader)$/), state: 'open' });
  const path = (await sharedWorkers(browser)).some((w) => w.realm !== workers[0]!.realm) ? 'shared-worker' : 'leader';
  const after = await publish(server, stream, 3);
  await expectIds(pages, [...before, ...during, ...after]);
  for (const page of pages) expect((await status(page)).sharing).toBe(path);
  await expect.poll(async () => (await stats(server)).perStream[stream]?.open).toBe(1);
});
