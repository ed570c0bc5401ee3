// Part 7, profiles (run only when named: BENCH_ONLY=profile): where the time goes at TABS tabs
// × RATE events/s, ssemux against the bare sharer. Per configuration the tabs are opened, take
// a warm-up burst (so the code is optimized, as in the fan-out, where the fastest rate comes
// last), then a burst of RATE events/s for SECONDS s with a V8 CPU profile of the hub's side and
// of one tab that only receives:
//
// - ssemux, shared-worker mode: the SharedWorker, and the last tab opened;
// - ssemux, leader mode (SharedWorker deleted): the leader (the first tab opened, which takes
//   the leader lock) and the last tab opened (a follower);
// - the bare sharer: its SharedWorker, and the last tab opened;
// - each build of BENCH_VARIANTS, in shared-worker mode.
//
// The profiler samples wall time: a thread that waits for a core (20 tabs and a worker on a few
// cores) is charged to what it was running. So the split is what to read; the CPU each thread
// really used comes from /proc beside it (bench/lib/cpu.mjs).
//
// Each profile's busy time (all but idle) is split by kind of work (bench/lib/cpu-profile.mjs)
// and by function. Sampling every 100 µs slows what it profiles: the latencies of these runs are
// given for context, the fan-out part is the one to read for latency. The raw profiles are
// written to BENCH_PROFILE_DIR (a temporary directory unless set), to open in DevTools.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { openTabs } from '../lib/browser.mjs';
import { profilePage, profileSharedWorker, summarize } from '../lib/cpu-profile.mjs';
import { measure, settle, streamCounts, waitForNoStreams } from '../lib/measure.mjs';
import { waitForQuiet } from '../lib/quiet.mjs';
import { burstOver, startBurst } from '../lib/burst.mjs';
import { sleep } from '../lib/stats.mjs';

export async function profile({ browser, browserPid, demo, root, tabs, rate, seconds, variants = [], quiet, log }) {
  const dir = process.env.BENCH_PROFILE_DIR || mkdtempSync(`${os.tmpdir()}/ssemux-profiles-`);
  mkdirSync(dir, { recursive: true });
  const demoStats = streamCounts(demo);
  const configs = [
    { key: 'shared-worker', page: 'ssemux.html', query: 'sharing=shared-worker', worker: '/dist/ssemux-worker.js', hubLabel: 'ssemux worker', tabLabel: 'ssemux tab' },
    {
      key: 'leader',
      page: 'ssemux.html',
      query: 'sharing=auto',
      init: () => {
        delete window.SharedWorker;
      },
      hubLabel: 'ssemux leader tab',
      tabLabel: 'ssemux follower tab',
    },
    { key: 'bare', page: 'bare.html', query: '', worker: '/bare-worker.js', hubLabel: 'bare worker', tabLabel: 'bare tab' },
    // Each build of BENCH_VARIANTS in shared-worker mode.
    ...variants.map((v) => ({
      key: `shared-worker[${v.name}]`,
      page: v.page,
      query: 'sharing=shared-worker',
      worker: `/variant/${v.name}/dist/ssemux-worker.js`,
      hubLabel: `ssemux[${v.name}] worker`,
      tabLabel: `ssemux[${v.name}] tab`,
    })),
  ];
  const only = process.env.BENCH_FANOUT_CLIENTS?.split(',');
  const targets = [];
  const runs = [];
  for (const [i, config] of configs.entries()) {
    if (only && !only.some((word) => config.key.includes(word))) continue;
    const stream = `profile-${i}`;
    await waitForNoStreams(demoStats);
    log(`  ${config.key}: opening ${tabs} tabs`);
    const context = await browser.newContext();
    try {
      if (config.init) await context.addInitScript(config.init);
      const open = await openTabs(context, `${demo.url}/${config.page}?stream=${stream}&${config.query}`, tabs);
      await sleep(500);
      const burst = async (type, r, count, wait) =>
        measure({
          tabs: open,
          browserPid,
          type,
          expectedFor: () => count,
          publish: () => startBurst(demo, { count, rate: r, type, stream }),
          published: burstOver(demo, log),
          serverStats: demoStats,
          deadlineMs: seconds * 1000 + 30_000,
          quiet: wait ? quiet : undefined,
          log,
        });
      log(`  ${config.key}: warm-up, ${rate / 4} events/s for 1 s`);
      await burst('warm-up', rate / 4, rate / 4);
      await settle(open, 5_000);
      // Profiled once the machine is quiet (BENCH_QUIET), not run again: the profiles would be lost.
      if (quiet) await waitForQuiet(browserPid, quiet, { log });
      const hub = config.worker ? await profileSharedWorker(browser, context, open[0].page, config.worker) : await profilePage(context, open[0].page);
      const tab = await profilePage(context, open.at(-1).page);
      log(`  ${config.key}: profiling ${rate * seconds} events at ${rate}/s`);
      const result = await burst(`burst-${rate}`, rate, rate * seconds);
      const [hubProfile, tabProfile] = await Promise.all([hub.stop(), tab.stop()]);
      for (const [label, p] of [[config.hubLabel, hubProfile], [config.tabLabel, tabProfile]]) {
        const file = `${dir}/${label.replaceAll(' ', '-')}.cpuprofile`;
        writeFileSync(file, JSON.stringify(p));
        targets.push({ label, file, ...summarize(p, root, variants) });
      }
      runs.push({ key: config.key, p50: result.p50, p99: result.p99, delivered: result.delivered, expected: result.expected, sharing: result.sharing, threads: result.cpuThreads, tabs });
      log(`    under the profiler: p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.delivered} / ${result.expected}; profiles in ${dir}`);
    } finally {
      await context.close();
    }
  }
  return { tabs, rate, seconds, dir, targets, runs };
}
