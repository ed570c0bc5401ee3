// Part 3, fan-out: TABS tabs of one stream take bursts of RATE events/s for SECONDS s, from the
// demo server's `POST /publish/burst` (data `{ seq, t }`). Per client row the tabs are opened
// once and take every rate in turn (each burst with an event type of its own, so a straggler
// of one burst never counts in the next).
//
// Rows: ssemux in shared-worker mode; ssemux in leader mode (an init script deletes
// SharedWorker, `sharing: 'auto'` falls back to leader election); plain EventSource over
// HTTP/1.1 (6 connections per host: the rest of the tabs cannot even load their page); plain
// EventSource over HTTP/2 (all tabs' streams on one connection; bench/lib/http2-server.mjs).
import { openTabs } from '../lib/browser.mjs';
import { measure, settle, streamCounts, waitForNoStreams } from '../lib/measure.mjs';
import { sleep } from '../lib/stats.mjs';

export async function fanOut({ browser, browserPid, demo, http2, rates, tabs, seconds, log }) {
  const demoStats = streamCounts(demo);
  const http2Stats = streamCounts(http2);
  const clients = [
    { label: 'ssemux (shared-worker)', origin: demo.url, page: 'ssemux.html', query: 'sharing=shared-worker', serverStats: demoStats },
    {
      label: 'ssemux (leader, SharedWorker deleted)',
      origin: demo.url,
      page: 'ssemux.html',
      query: 'sharing=auto',
      serverStats: demoStats,
      init: () => {
        delete window.SharedWorker;
      },
    },
    { label: 'plain EventSource, HTTP/1.1', origin: demo.url, page: 'plain.html', query: '', serverStats: demoStats },
    { label: 'plain EventSource, HTTP/2', origin: http2.url, page: 'plain.html', query: '', serverStats: http2Stats },
  ];

  // BENCH_FANOUT_CLIENTS=shared-worker,leader picks rows by a word of their label.
  const only = process.env.BENCH_FANOUT_CLIENTS?.split(',');
  const results = [];
  for (const [i, client] of clients.entries()) {
    if (only && !only.some((word) => client.label.includes(word))) continue;
    const stream = `fanout-${i}`;
    await waitForNoStreams(demoStats);
    await waitForNoStreams(http2Stats);
    log(`  ${client.label}: opening ${tabs} tabs`);
    const context = await browser.newContext();
    try {
      if (client.init) await context.addInitScript(client.init);
      const open = await openTabs(context, `${client.origin}/${client.page}?stream=${stream}&${client.query}`, tabs);
      await sleep(500);
      for (const rate of rates) {
        const count = Math.round(rate * seconds);
        log(`  ${client.label}: ${count} events at ${rate}/s`);
        const result = await measure({
          tabs: open,
          browserPid,
          type: `burst-${rate}`,
          expectedFor: () => count,
          publish: () => startBurst(demo, { count, rate, type: `burst-${rate}`, stream }),
          published: async () => (await demo.stats()).burst?.done === true,
          serverStats: client.serverStats,
          deadlineMs: seconds * 1000 + 30_000,
          log,
        });
        results.push({ rate, count, label: client.label, ...result });
        if (result.cut && rate !== rates.at(-1)) await settle(open);
      }
    } finally {
      await context.close();
    }
  }
  return results;
}

/** POST /publish/burst on the demo server (HTTP/1.1, from here: no browser connection used). */
async function startBurst(demo, burst) {
  // One burst at a time: a previous one that is still publishing answers 409.
  for (let i = 0; ; i++) {
    const response = await fetch(`${demo.url}/publish/burst`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(burst),
    });
    if (response.status === 202) return;
    if (response.status !== 409 || i > 100) throw new Error(`burst: ${response.status} ${await response.text()}`);
    await sleep(100);
  }
}
