import { recordRuns, stats, tallyRuns, type DemoServer, type ReportedRun } from '../support/test-server.js';
import { KILLS_TABS, type Context, type Engine, type Tab } from './engine.js';
import { engineName, expect, test } from './fixtures.js';
import { FAST, expectIds, expectOpen, openHarness, startClient, status } from './harness.js';
import { burstIds, burstSent, expectEveryRun, listen, stallNext, startBurst } from './tab-harness.js';

// `client.on(type, fn, { tabs: 'one' })`: each event runs `fn` in exactly one tab. Every tab here
// has a `tabs: 'one'` listener and a plain one for the same type; each run of a `one` listener is
// reported to the server as it runs (recordRuns), so what a tab ran before it closed or crashed
// is still counted.

const MODES = ['shared-worker', 'leader'] as const;
type Mode = (typeof MODES)[number] | 'auto';
const TYPE = 'job';
const EVENTS = 200;
/**
 * Events per second of a stream that a tab leaves in the middle of: 200 take 4 s, so the tab goes
 * with more than half of them still to come (it goes once 60 have run), also on a loaded machine.
 */
const RATE = 50;
/**
 * What the `one` listener of the tab that is ended works on the event it runs then (a side
 * effect's work, reported as it starts): the tab is ended while it runs, the window the README
 * allows a crash.
 */
const STALL_MS = 5_000;

/**
 * A long task in the tab that runs the one-events, under way when a hub dies (a page that renders
 * or parses something large): what the hub handed the tab meanwhile waits in the tab's queue, and
 * the tab runs it once the task ends. It lasts long enough for {@link QUEUED} events to be handed.
 */
const LONG_TASK_MS = 2_000;
/** Events the hub hands the busy tab before it dies. */
const QUEUED = 5;

/**
 * Starts a long task in `tab` and resolves once the server has published {@link QUEUED} more
 * events, which the hub hands to the busy tab while the task runs.
 */
async function busyWhileHanded(server: DemoServer, tab: Tab): Promise<void> {
  await tab.evaluate(
    (ms) =>
      void setTimeout(() => {
        for (const until = performance.now() + ms; performance.now() < until; );
      }),
    LONG_TASK_MS,
  );
  const { sent } = await burstSent(server);
  await expect.poll(async () => (await burstSent(server)).sent).toBeGreaterThanOrEqual(sent + QUEUED);
}

/**
 * Makes the next run of `tab`'s `one` listener last {@link STALL_MS} and waits until it started
 * (its report arrived): `tab` is then running an event.
 */
async function whileRunning(runs: ReportedRun[], { name, tab }: Named): Promise<void> {
  const mine = () => runs.filter((r) => r.tab === name).length;
  const before = mine();
  await stallNext(tab, STALL_MS);
  await expect.poll(mine).toBeGreaterThan(before);
}

/** A tab with its client and the name it reports its runs under. */
interface Named {
  name: string;
  tab: Tab;
}

/**
 * Opens `n` tabs on `stream` in `mode`, each with a client, a plain listener of {@link TYPE} and a
 * `tabs: 'one'` listener of it that reports its runs; waits until every client is open. The first
 * tab is open before the next is made, so in leader mode it is the leader.
 */
async function openOneTabs(context: Context, server: DemoServer, stream: string, mode: Mode, n: number, workerUrl?: string): Promise<Named[]> {
  const tabs: Named[] = [];
  for (let i = 0; i < n; i++) {
    const tab = await openHarness(context, server);
    await startClient(tab, { url: `/events?stream=${stream}`, sharing: mode, ...(workerUrl && { workerUrl }), ...FAST }, [TYPE]);
    const name = `tab${i}`;
    await listen(tab, TYPE, { tabs: 'one', report: name });
    tabs.push({ name, tab });
    if (i === 0) await expectOpen(tab);
  }
  for (const { tab } of tabs) {
    await expectOpen(tab);
    // 'auto' starts on the worker too.
    expect((await status(tab)).sharing).toBe(mode === 'auto' ? 'shared-worker' : mode);
  }
  return tabs;
}

/**
 * Publishes {@link EVENTS} events at {@link RATE} per second; once 60 have run, `end(handler)`
 * ends something (the tab that ran the latest, the leader, the worker) while the rest are still
 * to come, and resolves with the tabs that stay; `after()` then waits for what must follow. Then
 * waits until every event has run somewhere and every staying tab's plain listener got every
 * event once, in order; resolves with the tally of the `one` runs.
 */
async function endMidStream(
  server: DemoServer,
  runs: ReportedRun[],
  stream: string,
  end: (handler: string) => Promise<Named[]>,
  after?: () => Promise<void>,
): Promise<ReturnType<typeof tallyRuns>> {
  await startBurst(server, stream, EVENTS, RATE, TYPE);
  await expect.poll(() => runs.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(60);
  const handler = runs.at(-1)!.tab;
  const staying = await end(handler);
  // Mid-stream: events were still to come when it ended.
  const { sent: published } = await burstSent(server);
  expect(published).toBeLessThan(EVENTS);
  await after?.();
  const sent = await burstIds(server, stream, TYPE);
  await expectIds(
    staying.map((t) => t.tab),
    sent,
  );
  await expectEveryRun(runs, sent);
  return tallyRuns(runs, sent);
}

/** {@link endMidStream}, ending the tab that runs the one-events (`end`) while its listener runs. */
function endWhileRunning(server: DemoServer, runs: ReportedRun[], stream: string, tabs: Named[], end: (tab: Tab) => Promise<void>) {
  return endMidStream(server, runs, stream, async (handler) => {
    const named = tabs.find((t) => t.name === handler)!;
    await whileRunning(runs, named);
    await end(named.tab);
    return tabs.filter((t) => t !== named);
  });
}

for (const mode of MODES) {
  test(`${mode}: 3 tabs, 200 events: each runs one tab's tabs: 'one' listener, once; every plain listener gets all 200 in order, once`, async ({ context, server, annotate }) => {
    const runs = recordRuns(server);
    const stream = `one-${mode}`;
    const tabs = await openOneTabs(context, server, stream, mode, 3);
    await startBurst(server, stream, EVENTS, 1000, TYPE);
    const sent = await burstIds(server, stream, TYPE);
    expect(sent).toHaveLength(EVENTS);
    await expectIds(
      tabs.map((t) => t.tab),
      sent,
    );
    await expectEveryRun(runs, sent);
    const tally = tallyRuns(runs, sent);
    await annotate(JSON.stringify(tally.perTab), 'runs-per-tab');
    expect(tally).toMatchObject({ ranTwice: 0, lost: 0 });
    expect(runs).toHaveLength(EVENTS);
  });

  test(`${mode}: the tab running the tabs: 'one' listener closes mid-stream: another takes over, no event lost, none run twice`, async ({ context, server, annotate }) => {
    const runs = recordRuns(server);
    const stream = `one-close-${mode}`;
    const tabs = await openOneTabs(context, server, stream, mode, 3);
    const tally = await endMidStream(server, runs, stream, async (handler) => {
      await tabs.find((t) => t.name === handler)!.tab.close();
      return tabs.filter((t) => t.name !== handler);
    });
    await annotate(JSON.stringify(tally), 'one-close');
    // Runs after the close came from the others.
    expect(Object.keys(tally.perTab).length).toBeGreaterThan(1);
    expect(tally).toMatchObject({ ranTwice: 0, lost: 0 });
  });

  if (KILLS_TABS.includes(engineName())) {
    test(`${mode}: 6 tabs, the tab running the tabs: 'one' listener crashes while it runs: nothing lost, only the event it was running runs again`, async ({ context, server, annotate }) => {
      const runs = recordRuns(server);
      const stream = `one-crash-${mode}`;
      // A first tab of the context brings up the processes a context starts with; it stays idle,
      // so that every tab with a client has a renderer of its own to kill.
      await openHarness(context, server);
      const tabs = await openOneTabs(context, server, stream, mode, 6);
      const tally = await endWhileRunning(server, runs, stream, tabs, (tab) => tab.kill());
      await annotate(JSON.stringify(tally), 'one-crash');
      // README: the event it was running when it crashed (and one it had just run whose report
      // was still on its way) runs again in another tab.
      expect(tally.lost).toBe(0);
      expect(tally.extraRuns).toBeLessThanOrEqual(2);
    });
  }
}

test("shared-worker: the tab running the tabs: 'one' listener is closed while the listener runs: nothing lost; as in a crash, only the event it was running may run again", async ({ context, server, annotate }) => {
  const runs = recordRuns(server);
  const stream = 'one-close-running';
  const tabs = await openOneTabs(context, server, stream, 'shared-worker', 3);
  const tally = await endWhileRunning(server, runs, stream, tabs, (tab) => tab.close());
  await annotate(JSON.stringify(tally), 'one-close-running');
  // A page whose script is busy does not get to run pagehide: Chromium waits about 0.5 s for a
  // closing page, then ends its process; WebKit ends it at once; Firefox lets the script finish
  // first. The hub then learns of the close as of a crash, from the tab's lock: the README's
  // window for a crash (the event it was running, and one whose report was on its way).
  expect(tally.lost).toBe(0);
  expect(tally.extraRuns).toBeLessThanOrEqual(2);
});

/**
 * The leader closes mid-stream, 6 tabs: a new leader's hub takes over from where the tabs heard
 * the one-events were done. With `busy`, the tab running the one-events is in a long task while
 * the old hub hands it its last events.
 */
async function leaderTakeover(context: Context, server: DemoServer, busy = false): Promise<ReturnType<typeof tallyRuns>> {
  const runs = recordRuns(server);
  const stream = 'one-takeover';
  const tabs = await openOneTabs(context, server, stream, 'leader', 6);
  const [leader, ...followers] = tabs;
  const { connections } = await stats(server);
  return endMidStream(
    server,
    runs,
    stream,
    async (handler) => {
      // The tab that runs them is the one focused last, not the leader (the first).
      expect(handler).not.toBe(leader!.name);
      if (busy) await busyWhileHanded(server, tabs.find((t) => t.name === handler)!.tab);
      await leader!.tab.close();
      return followers;
    },
    // The new leader's upstream: the hub that handed out the one-events is gone.
    () => expect.poll(async () => (await stats(server)).connections).toBeGreaterThan(connections),
  );
}

/**
 * The SharedWorker dies mid-stream, 6 tabs: the new worker's hub takes over from where the tabs
 * heard the one-events were done. With `busy`, as {@link leaderTakeover}.
 */
async function workerRestart(engine: Engine, context: Context, server: DemoServer, busy = false): Promise<ReturnType<typeof tallyRuns>> {
  const runs = recordRuns(server);
  const stream = 'one-worker-restart';
  // A first tab starts the worker and leaves: WebKit runs a worker in the process of the tab
  // that started it, so ending the worker's process then ends no tab (worker-restart.spec.ts).
  // 'auto' where the engine may keep a dead worker half alive: the tabs give up on it 10 s after
  // its death and go on through leader election (worker-restart.spec.ts).
  const mode = engine.workerMayNotRestart ? 'auto' : 'shared-worker';
  const starter = await openHarness(context, server);
  await startClient(starter, { url: `/events?stream=${stream}`, sharing: mode, workerUrl: engine.killableWorkerUrl, ...FAST }, [TYPE]);
  await expectOpen(starter);
  const tabs = await openOneTabs(context, server, stream, mode, 6, engine.killableWorkerUrl);
  await starter.close();
  const { connections } = await stats(server);
  return endMidStream(
    server,
    runs,
    stream,
    async (handler) => {
      if (busy) await busyWhileHanded(server, tabs.find((t) => t.name === handler)!.tab);
      await context.killWorker();
      return tabs;
    },
    // The new worker's upstream (or the leader's, where the engine keeps the dead worker): the
    // hub that handed out the one-events is gone. 20 s: Firefox may go on through leader
    // election 10 s after the death (worker-restart.spec.ts).
    () => expect.poll(async () => (await stats(server)).connections, { timeout: 20_000 }).toBeGreaterThan(connections),
  );
}

// README: "an event run just before the hub died may run once more", within the window of a
// crash (the event being run and one whose report was on its way).

test('leader: 6 tabs, the leader closes mid-stream: the new leader hands out only what was not run; nothing lost, at most the event run just before runs again', async ({ context, server, annotate }) => {
  const tally = await leaderTakeover(context, server);
  await annotate(JSON.stringify(tally), 'one-takeover');
  expect(tally.lost).toBe(0);
  expect(tally.extraRuns).toBeLessThanOrEqual(2);
});

test('shared-worker: 6 tabs, the worker dies mid-stream: the new hub hands out only what was not run; nothing lost, at most the event run just before runs again', async ({ engine, context, server, annotate }) => {
  const tally = await workerRestart(engine, context, server);
  await annotate(JSON.stringify(tally), 'one-worker-restart');
  expect(tally.lost).toBe(0);
  expect(tally.extraRuns).toBeLessThanOrEqual(2);
});

// A tab that is behind when its hub dies: it runs, after the death, what the old hub handed it
// before. The README's window for a hub's death holds for it too: an event run just before the
// hub died may run once more, no other. The issue asks these failure cases of Chromium; Firefox
// and WebKit run the ones above.
if (engineName() === 'chromium') {
  test('leader: the leader closes while the tab running the one-events is in a long task: nothing lost, at most the event run just before runs again', async ({ context, server, annotate }) => {
    const tally = await leaderTakeover(context, server, true);
    await annotate(JSON.stringify(tally), 'one-takeover-busy');
    expect(tally.lost).toBe(0);
    expect(tally.extraRuns).toBeLessThanOrEqual(2);
  });

  test('shared-worker: the worker dies while the tab running the one-events is in a long task: nothing lost, at most the event run just before runs again', async ({ engine, context, server, annotate }) => {
    const tally = await workerRestart(engine, context, server, true);
    await annotate(JSON.stringify(tally), 'one-worker-restart-busy');
    expect(tally.lost).toBe(0);
    expect(tally.extraRuns).toBeLessThanOrEqual(2);
  });
}
