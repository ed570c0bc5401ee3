// One measured run over open tabs: publish, wait for the tabs to get everything (or to stop
// getting anything), then read their counts and latency histograms, the server's connection
// counters and the CPU used by the browser's processes and by this Node process.
import { askTabs } from './browser.mjs';
import { startCpu } from './cpu.mjs';
import { othersMeter, waitForQuiet } from './quiet.mjs';
import { histogramPercentile, mergeHistograms, sleep } from './stats.mjs';

/**
 * @param {object} o
 * @param {{ page: any, loaded: boolean }[]} o.tabs
 * @param {number} o.browserPid
 * @param {string} o.type              the event type of this run (tabs count only it)
 * @param {(tabIndex: number) => number} o.expectedFor  events tab i should get
 * @param {() => Promise<void>} o.publish   starts publishing; resolves when publishing is under way
 * @param {() => Promise<boolean>} o.published  true once everything is published
 * @param {() => Promise<{ open: number, connections: number }>} o.serverStats
 * @param {number} o.deadlineMs        give up waiting for deliveries after this long
 * @param {number} [o.quiet]           with it: wait until the machine's other work uses fewer
 *                                     cores than this before publishing (bench/lib/quiet.mjs), and
 *                                     run again (twice at most) when it used more than twice that
 * @param {(line: string) => void} o.log
 */
export async function measure({ tabs, browserPid, type, expectedFor, publish, published, serverStats, deadlineMs, quiet, log }) {
  for (let attempt = 1; ; attempt++) {
    const result = await measureOnce({ tabs, browserPid, type, expectedFor, publish, published, serverStats, deadlineMs, quiet, log });
    if (!quiet || result.othersCores <= 2 * quiet || attempt === 3) return { ...result, attempts: attempt };
    log(`    others used ${result.othersCores.toFixed(2)} cores during the run: again`);
    await settle(tabs);
  }
}

/** One run of {@link measure}. */
async function measureOnce({ tabs, browserPid, type, expectedFor, publish, published, serverStats, deadlineMs, quiet, log }) {
  // Before the tabs are told their deadline.
  if (quiet) await waitForQuiet(browserPid, quiet, { log });
  // The tabs stop counting at the deadline themselves (they may answer the driver much later).
  const deadline = Date.now() + 1_000 + deadlineMs; // + the time it takes to start
  await askTabs(tabs, ([t, until]) => window.bench.listen(t, until), [type, deadline]);
  // Where each tab stands as publishing begins: only tabs open now are expected to get everything.
  const atStart = await Promise.all(
    tabs.map((t) => (t.loaded ? t.page.evaluate(() => ({ state: window.benchRecorder.record.state, error: window.benchRecorder.record.error })) : { state: 'not loaded' })),
  );
  const states = atStart.map((s) => s.state);
  const connected = states.filter((s) => s === 'open').length;
  const expected = tabs.reduce((sum, _t, i) => sum + expectedFor(i), 0);
  const before = await serverStats();

  const stopOthers = othersMeter(browserPid);
  const stopCpu = startCpu(browserPid);
  await publish();
  let lastTotal = -1;
  let lastChange = Date.now();
  let stopped = null; // why we stopped waiting before the tabs said they had everything
  for (;;) {
    await sleep(500);
    const done = await published();
    const progress = await Promise.all(tabs.map((t) => (t.loaded ? t.page.evaluate(() => window.bench.progress().delivered) : 0)));
    const total = progress.reduce((a, b) => a + b, 0);
    if (total !== lastTotal) {
      lastTotal = total;
      lastChange = Date.now();
    }
    // Done when every tab that is open has all its events; or nothing moved for 5 s after the
    // last publish (tabs that never connected, events lost); or at the deadline.
    const complete = tabs.every((_t, i) => states[i] !== 'open' || progress[i] >= expectedFor(i));
    if (done && complete) break;
    if (done && Date.now() - lastChange > 5_000) {
      stopped = 'stalled';
      break;
    }
    if (Date.now() > deadline) {
      stopped = `still delivering at the ${deadlineMs / 1000} s deadline: counts and latencies up to it`;
      break;
    }
  }
  const cpu = stopCpu();
  const othersCores = stopOthers();
  const snapshots = await askTabs(tabs, () => window.bench.snapshot());
  const after = await serverStats();
  const hist = mergeHistograms(snapshots.map((s) => s.hist));
  const delivered = snapshots.reduce((sum, s) => sum + s.delivered, 0);
  // A busy tab answers the polls late, so what they said may be behind: whether the run was cut
  // short is decided on the tabs' own counts (frozen at the deadline).
  const expectedOfOpen = tabs.reduce((sum, _t, i) => sum + (states[i] === 'open' ? expectedFor(i) : 0), 0);
  const cut = stopped && delivered < expectedOfOpen ? stopped : null;
  if (cut) log(`    ${cut}: ${delivered} of ${expectedOfOpen} delivered to the open tabs`);
  // Tabs loaded but not open when publishing began, by what they said: "2 connecting (network)".
  const notOpen = new Map();
  for (const s of atStart) {
    if (s.state === 'open' || s.state === 'not loaded') continue;
    const key = `${s.state}${s.error ? ` (${s.error})` : ''}`;
    notOpen.set(key, (notOpen.get(key) ?? 0) + 1);
  }
  const sharing = [...new Set(snapshots.map((s) => s.sharing).filter(Boolean))].join('+');
  return {
    tabs: tabs.length,
    loaded: tabs.filter((t) => t.loaded).length,
    connected,
    expected,
    delivered,
    outOfOrder: snapshots.reduce((sum, s) => sum + s.outOfOrder, 0),
    // Messages a tab received during the run, the mean over the tabs that answered.
    messagesPerTab: snapshots.length ? snapshots.reduce((sum, s) => sum + (s.messages ?? 0), 0) / snapshots.length : NaN,
    p50: histogramPercentile(hist, 50),
    p99: histogramPercentile(hist, 99),
    upstreams: before.open,
    newConnections: after.connections - before.connections,
    cpuBrowser: cpu.browser,
    cpuNode: cpu.node,
    cpuThreads: cpu.threads,
    othersCores,
    cut,
    notOpen: [...notOpen].map(([key, n]) => `${n} ${key}`).join(', '),
    sharing,
    transport: [...new Set(snapshots.map((s) => s.transport).filter(Boolean))].join('+'),
    errors: [...new Set(snapshots.map((s) => s.error).filter(Boolean))].join(','),
  };
}

/**
 * What measure() needs of a server's counters: open streams now, and streams answered ever (so
 * a difference counts the reconnects). The demo server and the HTTP/2 front both have stats().
 * @param {{ stats: () => any }} server
 */
export function streamCounts(server) {
  return async () => {
    const s = await server.stats();
    return { open: s.openStreams, connections: s.connections };
  };
}

/**
 * After a run cut at its deadline: waits (up to `ms`) until the tabs have taken the backlog, so
 * that it does not run into the next run on the same tabs (and its CPU time).
 */
export async function settle(tabs, ms = 60_000) {
  const deadline = Date.now() + ms;
  let last = -1;
  for (;;) {
    const received = (await askTabs(tabs, () => window.bench.progress().received)).reduce((a, b) => a + b, 0);
    if (received === last || Date.now() > deadline) return;
    last = received;
    await sleep(2_000);
  }
}

/** Waits (up to `ms`) until the server has no open stream left from a previous run. */
export async function waitForNoStreams(serverStats, ms = 8_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && (await serverStats()).open > 0) await sleep(100);
}
