// Part 4, topics: 10 topics followed by 6 tabs, each a different window of 5
// consecutive topics (tab k: topics k..k+4 mod 10; together all 10). Events are published with
// the demo server's `POST /publish { topic, type, data }`, round-robin over the topics, RATE/s
// in all for SECONDS s; data `{ seq, t }` with seq counted per topic (each tab checks the order
// per topic) and t stamped just before the POST.
//
// Rows:
// - ssemux, one upstream carrying every tab's topics (`createRealtimeClient({ url: '/events',
//   topics })`), over HTTP/1.1 (the demo server) and over HTTP/2;
// - one stream per topic with ssemux: each tab one client per topic on `/events?stream=<topic>`,
//   `maxConnections: 10` (the default cap of 4 upstreams per origin would hold 6 of the 10
//   back), over HTTP/2 only (10 upstreams are more than HTTP/1.1's 6 connections per host);
// - one stream per topic with plain EventSource: one per topic per tab (30), over HTTP/2 and
//   over HTTP/1.1 (where the 6 connections per host run out in the second tab).
import { openTabs } from '../lib/browser.mjs';
import { measure, streamCounts, waitForNoStreams } from '../lib/measure.mjs';
import { sleep } from '../lib/stats.mjs';

const TOPICS = Array.from({ length: 10 }, (_, i) => `topic-${i}`);
const TABS = 6;
const topicsOfTab = (k) => Array.from({ length: 5 }, (_, j) => TOPICS[(k + j) % TOPICS.length]);

export async function topics({ browser, browserPid, demo, http2, rate, seconds, quiet, log }) {
  const demoStats = streamCounts(demo);
  const http2Stats = streamCounts(http2);
  const rows = [
    { label: 'ssemux, 1 upstream with 10 topics, HTTP/1.1', origin: demo.url, page: 'ssemux.html', query: '', serverStats: demoStats },
    { label: 'ssemux, 1 upstream with 10 topics, HTTP/2', origin: http2.url, page: 'ssemux.html', query: '', serverStats: http2Stats },
    { label: 'ssemux, 1 stream per topic (maxConnections 10), HTTP/2', origin: http2.url, page: 'ssemux.html', query: '&perTopic=1&maxConnections=10', serverStats: http2Stats },
    { label: 'plain EventSource per topic per tab, HTTP/2', origin: http2.url, page: 'plain.html', query: '', serverStats: http2Stats },
    { label: 'plain EventSource per topic per tab, HTTP/1.1', origin: demo.url, page: 'plain.html', query: '', serverStats: demoStats },
  ];
  const count = Math.round(rate * seconds);
  const perTopic = Math.floor(count / TOPICS.length);

  // Warm up the publishing path (fetch, express, the store) so the first row does not pay for it.
  await publishRoundRobin(demo, 1_000, 1_000, 'warm-up').finished;

  const results = [];
  for (const row of rows) {
    await waitForNoStreams(demoStats);
    await waitForNoStreams(http2Stats);
    log(`  ${row.label}`);
    const context = await browser.newContext();
    try {
      const tabs = await openTabs(context, (k) => `${row.origin}/${row.page}?topics=${topicsOfTab(k).join(',')}&type=topic-bench&sharing=shared-worker${row.query}`, TABS);
      await sleep(500);
      let publishing;
      const result = await measure({
        tabs,
        browserPid,
        type: 'topic-bench',
        expectedFor: () => perTopic * 5,
        publish: async () => void (publishing = publishRoundRobin(demo, perTopic * TOPICS.length, rate)),
        published: async () => publishing?.done ?? false,
        serverStats: row.serverStats,
        deadlineMs: seconds * 1000 + 20_000,
        quiet,
        log,
      });
      await publishing.finished;
      results.push({ label: row.label, ...result });
    } finally {
      await context.close();
    }
  }
  return { results, count: perTopic * TOPICS.length, rate, seconds, topics: TOPICS.length, tabs: TABS };
}

/**
 * `count` events over POST /publish at `rate`/s, round-robin over the topics: every 10 ms the
 * events due by then, the topics in parallel (keep-alive connections of Node's fetch) and the
 * events of one topic one after another, so that they are published in seq order.
 */
function publishRoundRobin(demo, count, rate, type = 'topic-bench') {
  const state = { done: false };
  const seqs = new Map();
  const start = Date.now();
  let sent = 0;
  state.finished = (async () => {
    while (sent < count) {
      const due = Math.min(count, Math.floor(((Date.now() - start) * rate) / 1000) + 1);
      const byTopic = new Map();
      for (; sent < due; sent++) {
        const topic = TOPICS[sent % TOPICS.length];
        const seq = seqs.get(topic) ?? 0;
        seqs.set(topic, seq + 1);
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), seq]);
      }
      await Promise.all(
        [...byTopic].map(async ([topic, list]) => {
          for (const seq of list) {
            const r = await fetch(`${demo.url}/publish`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ topic, type, data: { seq, t: Date.now() } }),
            });
            if (!r.ok) throw new Error(`publish: ${r.status} ${await r.text()}`);
          }
        }),
      );
      await sleep(10);
    }
  })().finally(() => {
    state.done = true; // also after a failed POST: the run ends, and `finished` rejects
  });
  return state;
}
