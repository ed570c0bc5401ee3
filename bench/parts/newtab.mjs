// Part 2, a new tab goes live: 3 tabs already follow a stream on which the server publishes an
// event every 10 ms; a new tab opens, and we time from its navigation start
// (performance.timeOrigin: every mark is ms since then) to the first event its listener gets.
// ssemux in shared-worker mode (the new tab joins the worker's running upstream) against a tab
// opening its own plain EventSource on the same server, same stream, same rate (also with 3
// such tabs open, so both contexts hold connections and a warm HTTP cache alike).
//
// And, as the floor of any design that shares a stream through a SharedWorker here, a tab
// joining a bare sharer (bare-worker.js: one EventSource, each event posted to every port).
// Every page loads its code as one preloaded module script besides recorder.js, as an app loads
// its bundle: ssemux.html its inline module's import of /dist/ssemux.js, the others plain.js and
// bare.js. (Until 2026-11-22 the EventSource page ran its code inline, with no module to fetch,
// which charged ssemux for loading a script at all: ratios about 0.08 higher.)
//
// The kinds take turns, new tab after new tab, so a busy moment of the machine hits each;
// the first new tab of each kind is a warm-up and not counted. Each new tab is closed after its
// first event (the 3 others stay).
//
// Then the first tab of an origin: a fresh browser context each time, so no worker runs, ssemux
// (its worker starts), EventSource and the bare sharer (its worker starts) taking turns,
// `firstTabRuns` of each (after one warm-up round); once with an empty HTTP cache (a first
// visit), once after a tab of the context came and went (a returning visitor: the cache is warm,
// the worker ended with its last tab).
import { openTabs } from '../lib/browser.mjs';
import { median, sleep } from '../lib/stats.mjs';

const STEPS = ['htmlLoaded', 'scriptsLoaded', 'moduleLoaded', 'clientCreate', 'clientCreated', 'open', 'firstEvent'];

export async function newTab({ browser, demo, runs, firstTabRuns = runs, variants = [], log }) {
  let seq = 0;
  const ticker = setInterval(() => void demo.publish({ stream: 'newtab', type: 'tick', data: { seq: seq++, t: Date.now() } }), 10);
  const kinds = {
    ssemux: { url: `${demo.url}/ssemux.html?stream=newtab&type=tick&sharing=shared-worker`, samples: [] },
    plain: { url: `${demo.url}/plain.html?stream=newtab&type=tick`, samples: [] },
    bare: { url: `${demo.url}/bare.html?stream=newtab&type=tick`, samples: [] },
    // Each build of BENCH_VARIANTS (bench/lib/variants.mjs) takes its turn as ssemux does.
    ...Object.fromEntries(variants.map((v) => [`ssemux[${v.name}]`, { url: `${demo.url}/${v.page}?stream=newtab&type=tick&sharing=shared-worker`, samples: [] }])),
  };
  const contexts = [];
  /** The first tab of an origin, by visit (empty or warm cache) and kind. */
  const firstTabs = {};
  try {
    for (const kind of Object.values(kinds)) {
      kind.context = await browser.newContext();
      contexts.push(kind.context);
      await openTabs(kind.context, kind.url, 3);
    }
    await sleep(500);
    /** Opens `url` in a new tab of `context` until its first event; its timings, and the tab closed. */
    const live = async (context, url) => {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => window.benchRecorder.record.delivered > 0, null, { timeout: 30_000, polling: 20 });
      const timings = await page.evaluate(() => ({ ...window.bench.timings(), sharing: window.benchRecorder.record.sharing }));
      await page.close();
      return timings;
    };
    for (let i = 0; i <= runs; i++) {
      for (const [name, kind] of Object.entries(kinds)) {
        const timings = await live(kind.context, kind.url);
        if (i > 0) kind.samples.push(timings); // i = 0: warm-up
        if (i === runs) log(`  ${name}: ${kind.samples.map((s) => Math.round(s.firstEvent)).join(' ')} ms`);
        await sleep(100);
      }
    }
    for (let i = 0; i <= firstTabRuns; i++) {
      for (const visit of ['empty', 'warm']) {
        for (const name of Object.keys(kinds)) {
          const context = await browser.newContext();
          contexts.push(context);
          if (visit === 'warm') {
            await live(context, kinds[name].url);
            await sleep(500); // the worker ends with its last tab
          }
          const timings = await live(context, kinds[name].url);
          await context.close();
          if (i > 0) ((firstTabs[visit] ??= {})[name] ??= []).push(timings);
        }
      }
    }
  } finally {
    clearInterval(ticker);
    for (const context of contexts) await context.close();
  }
  const summary = (samples) => {
    const first = samples.map((s) => s.firstEvent);
    const steps = Object.fromEntries(STEPS.map((step) => [step, median(samples.map((s) => s[step]).filter((v) => v !== null))]));
    return { n: samples.length, median: median(first), min: Math.min(...first), max: Math.max(...first), steps, sharing: samples[0]?.sharing };
  };
  const variantNames = variants.map((v) => `ssemux[${v.name}]`);
  return {
    ssemux: summary(kinds.ssemux.samples),
    plain: summary(kinds.plain.samples),
    bare: summary(kinds.bare.samples),
    variants: Object.fromEntries(variantNames.map((name) => [name, summary(kinds[name].samples)])),
    firstTab: Object.fromEntries(
      Object.entries(firstTabs).map(([visit, byKind]) => [
        visit,
        { ssemux: summary(byKind.ssemux), plain: summary(byKind.plain), bare: summary(byKind.bare), variants: Object.fromEntries(variantNames.map((name) => [name, summary(byKind[name])])) },
      ]),
    ),
  };
}
