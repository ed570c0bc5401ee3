// Part 8, the first tab's anatomy (run only when named: BENCH_ONLY=firsttab): where the first
// tab of an origin spends its time until its first event, from a Chromium trace of each first
// tab and the demo server's own clock. A fresh browser context each time (no worker runs, warm
// HTTP cache: a returning visitor, so that the script downloads do not vary), ssemux, the bare
// sharer, plain EventSource and each build of BENCH_VARIANTS taking turns.
//
// Milestones, in ms since the tab's navigation start (medians):
// - the page's own marks (bench/recorder.js): HTML loaded, module evaluated, createRealtimeClient
//   called, open, first event;
// - the SharedWorker: its script asked of the server (the server's clock: Node's hrtime and
//   Chromium's trace clock are both CLOCK_MONOTONIC), its thread's first task, its script
//   evaluated (start, end), its first onconnect;
// - the upstream: asked (ResourceSendRequest, from the worker or the page), seen by the server,
//   its response headers, its first bytes.
// Tracing costs time itself: the milestones are for the breakdown, the newtab part for ratios.
import { median, sleep } from '../lib/stats.mjs';

const CATEGORIES = ['devtools.timeline', 'v8', 'blink.user_timing', 'loading'];
/** The columns, in order: [key, header]. */
export const ANATOMY_STEPS = [
  ['htmlLoaded', 'HTML loaded'],
  ['moduleLoaded', 'module evaluated'],
  ['clientCreate', 'client created (createRealtimeClient, new SharedWorker or new EventSource)'],
  ['workerScriptAtServer', 'worker script asked (server)'],
  ['workerThread', 'worker thread starts'],
  ['workerEvaluate', 'worker script evaluated: start'],
  ['workerEvaluated', 'worker script evaluated: end'],
  ['workerConnect', 'worker: first onconnect'],
  ['upstreamSent', 'upstream asked (ResourceSendRequest)'],
  ['upstreamAtServer', 'upstream seen by the server'],
  ['upstreamResponse', 'upstream response headers'],
  ['open', 'open (the page)'],
  ['firstEvent', 'first event (the page)'],
];

export async function firstTabAnatomy({ browser, demo, runs, variants = [], log }) {
  let seq = 0;
  const ticker = setInterval(() => void demo.publish({ stream: 'anatomy', type: 'tick', data: { seq: seq++, t: Date.now() } }), 10);
  const kinds = {
    ssemux: `${demo.url}/ssemux.html?stream=anatomy&type=tick&sharing=shared-worker`,
    bare: `${demo.url}/bare.html?stream=anatomy&type=tick`,
    plain: `${demo.url}/plain.html?stream=anatomy&type=tick`,
    ...Object.fromEntries(variants.map((v) => [`ssemux[${v.name}]`, `${demo.url}/${v.page}?stream=anatomy&type=tick&sharing=shared-worker`])),
  };
  /** Requests the server got, with the monotonic clock in µs (the trace's clock). */
  let arrivals = [];
  const onRequest = (req) => arrivals.push({ url: req.url, us: Number(process.hrtime.bigint() / 1000n) });
  demo.server.on('request', onRequest);
  const samples = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  try {
    for (let i = 0; i <= runs; i++) {
      for (const [kind, url] of Object.entries(kinds)) {
        const context = await browser.newContext();
        try {
          // A returning visitor: the scripts are in the HTTP cache, no worker runs.
          const warm = await context.newPage();
          await warm.goto(url);
          await warm.waitForFunction(() => window.benchRecorder.record.delivered > 0, null, { timeout: 30_000, polling: 20 });
          await warm.close();
          await sleep(500);
          const page = await context.newPage();
          arrivals = [];
          await browser.startTracing(undefined, { categories: CATEGORIES });
          await page.goto(url);
          await page.waitForFunction(() => window.benchRecorder.record.delivered > 0, null, { timeout: 30_000, polling: 20 });
          const timings = await page.evaluate(() => window.bench.timings());
          const trace = JSON.parse((await browser.stopTracing()).toString());
          if (i > 0) samples[kind].push(milestones(trace, url, timings, arrivals));
        } finally {
          await context.close();
        }
      }
    }
  } finally {
    clearInterval(ticker);
    demo.server.off('request', onRequest);
  }
  for (const [kind, list] of Object.entries(samples)) log(`  ${kind}: first event ${list.map((s) => Math.round(s.firstEvent)).join(' ')} ms`);
  return {
    runs,
    kinds: Object.fromEntries(
      Object.entries(samples).map(([kind, list]) => [kind, Object.fromEntries(ANATOMY_STEPS.map(([key]) => [key, median(list.map((s) => s[key]).filter(Number.isFinite))]))]),
    ),
  };
}

/** One first tab's milestones, in ms since its navigation start. */
function milestones(trace, pageUrl, timings, arrivals) {
  const events = trace.traceEvents;
  const threadNames = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [`${e.pid}/${e.tid}`, e.args.name]));
  const nav = events.find((e) => e.name === 'navigationStart' && e.args?.data?.documentLoaderURL === pageUrl);
  if (!nav) throw new Error(`no navigationStart for ${pageUrl} in the trace`);
  const ms = (us) => (us === undefined ? NaN : (us - nav.ts) / 1000);
  const onWorker = (e) => threadNames.get(`${e.pid}/${e.tid}`)?.startsWith('SharedWorker') && e.ts >= nav.ts;
  const workerEvents = events.filter(onWorker).sort((a, b) => a.ts - b.ts);
  const evaluate = workerEvents.find((e) => e.name === 'EvaluateScript');
  const connect = workerEvents.find((e) => e.name === 'FunctionCall' && /onconnect/.test(e.args?.data?.functionName ?? ''));
  const sent = events.filter((e) => e.name === 'ResourceSendRequest' && /\/events\?/.test(e.args?.data?.url ?? '') && e.ts >= nav.ts).sort((a, b) => a.ts - b.ts)[0];
  const requestId = sent?.args.data.requestId;
  const response = events.find((e) => e.name === 'ResourceReceiveResponse' && e.args?.data?.requestId === requestId);
  const atServer = (pattern) => arrivals.find((a) => pattern.test(a.url))?.us;
  return {
    htmlLoaded: timings.htmlLoaded,
    moduleLoaded: timings.moduleLoaded,
    clientCreate: timings.clientCreate,
    workerScriptAtServer: ms(atServer(/worker\.js/)),
    workerThread: ms(workerEvents[0]?.ts),
    workerEvaluate: ms(evaluate?.ts),
    workerEvaluated: ms(evaluate && evaluate.ts + evaluate.dur),
    workerConnect: ms(connect?.ts),
    upstreamSent: ms(sent?.ts),
    upstreamAtServer: ms(atServer(/^\/events\?/)),
    upstreamResponse: ms(response?.ts),
    open: timings.open,
    firstEvent: timings.firstEvent,
  };
}
