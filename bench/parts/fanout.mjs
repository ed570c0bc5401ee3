// Part 3, fan-out: TABS tabs of one stream take bursts of RATE events/s for SECONDS s, from the
// demo server's `POST /publish/burst` (data `{ seq, t }`). Per client row the tabs are opened
// once and take every rate in turn (each burst with an event type of its own, so a straggler
// of one burst never counts in the next).
//
// Rows: ssemux in shared-worker mode; ssemux in leader mode (an init script deletes
// SharedWorker, `sharing: 'auto'` falls back to leader election); the bare SharedWorker sharer
// (bench/bare-worker.js: one EventSource, a batch per task posted to every tab, each tab
// JSON.parse-ing; the floor of sharing through a worker, against which ssemux is compared); the
// same sharer reading its stream with fetch and a parser in script (bench/bare-fetch-worker.js:
// what a sharer pays for the headers, statuses and resume only fetch gives);
// plain EventSource over HTTP/1.1 (6 connections per host: the rest of the tabs cannot even load
// their page); plain EventSource over HTTP/2 (all tabs' streams on one connection;
// bench/lib/http2-server.mjs).
//
// Each build of BENCH_VARIANTS (bench/lib/variants.mjs) adds its two ssemux rows, labelled
// `ssemux[name] (…)`, and the report compares each with the same mode of dist/.
//
// Before the measured rates, each row's tabs take a warm-up burst that is not counted (1 s at
// half the first rate): the first burst of a run otherwise pays for the server's code getting
// optimized (measured: ssemux, first row of the run, p50 227 ms at 10,000 events/s, then 1 ms),
// and each row's own code is optimized before it is measured, as in a page that has been open a while.
//
// With ROUNDS > 1 every row runs ROUNDS times, the rows taking turns (a round in the reverse
// order of the one before, so that a drift of the machine's load hits each alike); with REPEAT > 1
// each rate is measured that many times in a row on the same tabs. The table gives each row's
// median over all its runs, and ratios taken between runs side by side (same round and repeat).
// At rates that keep the machine's cores busy, runs differ far more than rows do: take several.
import { openTabs } from '../lib/browser.mjs';
import { measure, settle, streamCounts, waitForNoStreams } from '../lib/measure.mjs';
import { burstOver, startBurst } from '../lib/burst.mjs';
import { sleep } from '../lib/stats.mjs';

/** The labels the report and BENCH_FANOUT_CLIENTS go by. */
export const FANOUT_LABELS = {
  shared: 'ssemux (shared-worker)',
  leader: 'ssemux (leader, SharedWorker deleted)',
  bare: 'bare SharedWorker sharer (bench/bare-worker.js)',
  bareFetch: 'bare SharedWorker sharer over fetch (bench/bare-fetch-worker.js)',
  http1: 'plain EventSource, HTTP/1.1',
  http2: 'plain EventSource, HTTP/2',
};

export async function fanOut({ browser, browserPid, demo, http2, rates, tabs, seconds, rounds = 1, repeat = 1, variants = [], quiet, log }) {
  const demoStats = streamCounts(demo);
  const http2Stats = streamCounts(http2);
  const ssemuxRows = (name, page) => [
    { label: name ? FANOUT_LABELS.shared.replace('ssemux', `ssemux[${name}]`) : FANOUT_LABELS.shared, origin: demo.url, page, query: 'sharing=shared-worker', serverStats: demoStats },
    {
      label: name ? FANOUT_LABELS.leader.replace('ssemux', `ssemux[${name}]`) : FANOUT_LABELS.leader,
      origin: demo.url,
      page,
      query: 'sharing=auto',
      serverStats: demoStats,
      init: () => {
        delete window.SharedWorker;
      },
    },
  ];
  const clients = [
    ...ssemuxRows(undefined, 'ssemux.html'),
    ...variants.flatMap((v) => ssemuxRows(v.name, v.page)),
    { label: FANOUT_LABELS.bare, origin: demo.url, page: 'bare.html', query: '', serverStats: demoStats },
    { label: FANOUT_LABELS.bareFetch, origin: demo.url, page: 'bare.html', query: 'worker=fetch', serverStats: demoStats },
    { label: FANOUT_LABELS.http1, origin: demo.url, page: 'plain.html', query: '', serverStats: demoStats },
    { label: FANOUT_LABELS.http2, origin: http2.url, page: 'plain.html', query: '', serverStats: http2Stats },
  ];

  // BENCH_FANOUT_CLIENTS=shared-worker,leader,bare picks rows by a word of their label.
  const only = process.env.BENCH_FANOUT_CLIENTS?.split(',');
  const chosen = clients.filter((client) => !only || only.some((word) => client.label.includes(word)));
  const results = [];
  for (let round = 0; round < rounds; round++) {
    for (const client of round % 2 === 0 ? chosen : [...chosen].reverse()) {
      const stream = `fanout-${round}-${clients.indexOf(client)}`;
      await waitForNoStreams(demoStats);
      await waitForNoStreams(http2Stats);
      const name = rounds > 1 ? `${client.label}, round ${round + 1}/${rounds}` : client.label;
      log(`  ${name}: opening ${tabs} tabs`);
      const context = await browser.newContext();
      try {
        if (client.init) await context.addInitScript(client.init);
        const open = await openTabs(context, `${client.origin}/${client.page}?stream=${stream}&${client.query}`, tabs);
        await sleep(500);
        const warmUp = Math.round(rates[0] / 2);
        log(`  ${name}: warm-up, ${warmUp} events at ${warmUp}/s (not counted)`);
        const warm = await measure({
          tabs: open,
          browserPid,
          type: 'warm-up',
          expectedFor: () => warmUp,
          publish: () => startBurst(demo, { count: warmUp, rate: warmUp, type: 'warm-up', stream }),
          published: burstOver(demo, log),
          serverStats: client.serverStats,
          deadlineMs: 30_000,
          log,
        });
        if (warm.cut) await settle(open);
        for (const rate of rates) for (let again = 0; again < repeat; again++) {
          const count = Math.round(rate * seconds);
          log(`  ${name}: ${count} events at ${rate}/s${repeat > 1 ? `, run ${again + 1}/${repeat}` : ''}`);
          const result = await measure({
            tabs: open,
            browserPid,
            type: `burst-${rate}`,
            expectedFor: () => count,
            publish: () => startBurst(demo, { count, rate, type: `burst-${rate}`, stream }),
            published: burstOver(demo, log),
            serverStats: client.serverStats,
            deadlineMs: seconds * 1000 + 30_000,
            quiet,
            log,
          });
          log(`    p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.delivered} / ${result.expected}`);
          results.push({ round, again, rate, count, label: client.label, ...result });
          if (result.cut) await settle(open);
        }
      } finally {
        await context.close();
      }
    }
  }
  return results;
}
