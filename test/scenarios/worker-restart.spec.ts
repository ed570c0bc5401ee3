import { publish, stats } from '../support/test-server.js';
import { expect, test } from './fixtures.js';
import { FAST, expectIds, expectOpen, openClients, openHarness, startClient, status, statuses } from './harness.js';

// The SharedWorker dies while its tabs live on: Chromium's is closed over CDP, Firefox's ends
// itself when asked (BiDi cannot end a worker), WebKit's web process is killed (README.md).

test('the worker restarts: every tab notices, resubscribes and resumes with nothing lost or doubled', async ({ engine, context, server }) => {
  const stream = 'restart-worker';
  // 'auto' where the engine may keep a dead worker half alive: the tabs give up on it 10 s after
  // its death and go on through leader election.
  const options = { url: `/events?stream=${stream}`, sharing: engine.workerMayNotRestart ? 'auto' : 'shared-worker', workerUrl: engine.killableWorkerUrl, ...FAST };
  // A first tab starts the worker and leaves: WebKit runs a worker in the process of the tab that
  // started it, so ending the worker's process then ends no tab.
  const starter = await openHarness(context, server);
  await startClient(starter, options);
  await expectOpen(starter);
  const tabs = await openClients(context, server, 3, options);
  await starter.close();
  const before = await publish(server, stream, 4);
  await expectIds(tabs, before);
  const workers = await context.sharedWorkers();
  expect(workers).toHaveLength(1);
  const heard = await Promise.all(tabs.map(async (tab) => (await statuses(tab)).length));

  await context.killWorker();
  // Every tab notices on its own (the worker's life lock is released), not through another tab.
  for (const [i, tab] of tabs.entries()) {
    await expect.poll(async () => (await statuses(tab)).slice(heard[i]).map((s) => s.state)).toContain('reconnecting');
  }
  // Events published while no worker holds the stream must still arrive, from the replay.
  const during = await publish(server, stream, 3);
  // A new worker and the tabs back on it; or, where the engine may never let the dead worker go,
  // every tab on leader election 10 s after the death. A failure shows what the tab reports.
  const restarted = async () => (await context.sharedWorkers()).filter((w) => !workers.includes(w)).length === 1;
  await expect
    .poll(
      async () => {
        const s = await status(tabs[0]!);
        return { path: (await restarted()) ? 'new worker' : s.sharing, state: s.state, error: s.error?.message };
      },
      { timeout: 20_000 },
    )
    .toMatchObject({ path: engine.workerMayNotRestart ? expect.stringMatching(/^(new worker|leader)$/) : 'new worker', state: 'open' });
  const path = (await restarted()) ? 'shared-worker' : 'leader';
  const after = await publish(server, stream, 3);
  await expectIds(tabs, [...before, ...during, ...after]);
  for (const tab of tabs) expect((await status(tab)).sharing).toBe(path);
  await expect.poll(async () => (await stats(server)).perStream[stream]?.open).toBe(1);
});
