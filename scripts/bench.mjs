// `npm run bench`: the multiplexer against plain EventSource in one run, in real Chromium.
// 20 tabs share one upstream through ssemux while the server streams 20,000 events at
// 10,000 events/s; then 5 tabs each with its own EventSource take the same burst. Prints
// upstream connections, events delivered, p50/p99 delivery latency and the worker's heap.
// Also runs the parser benchmark (bench/parser-bench.mjs) when present.
import { chromium } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createDemoServer } from '../demo-server/server.js';
import { chromiumArgs, chromiumPath } from '../test/support/chromium.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const TABS = Number(process.env.BENCH_TABS ?? 20);
const PLAIN_TABS = 5;
const COUNT = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATE = 10_000;

if (!existsSync(`${root}/dist/ssemux.js`) || process.env.BENCH_BUILD !== '0') {
  if (spawnSync(process.execPath, [`${root}/scripts/build.mjs`, 'lib'], { stdio: 'inherit' }).status !== 0) process.exit(1);
}

const server = await createDemoServer({
  port: 0,
  staticDirs: [
    { prefix: '/dist', dir: `${root}/dist` },
    { prefix: '/', dir: `${root}/bench` },
  ],
});
const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stats = async () => (await fetch(`${server.url}/stats`)).json();

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

async function workerHeapMb() {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const worker = targetInfos.find((t) => t.type === 'shared_worker');
  if (!worker) return NaN;
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
  const answer = new Promise((resolve) => {
    cdp.on('Target.receivedMessageFromTarget', (event) => {
      const message = JSON.parse(event.message);
      if (message.id === 1) resolve(message.result);
    });
  });
  await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: 1, method: 'Runtime.getHeapUsage' }) });
  const result = await Promise.race([answer, sleep(5000).then(() => undefined)]);
  await cdp.detach();
  return result ? result.usedSize / 1024 / 1024 : NaN;
}

async function run(label, tabs, start, stream) {
  const context = await browser.newContext();
  const pages = [];
  for (let i = 0; i < tabs; i++) {
    const page = await context.newPage();
    await page.goto(`${server.url}/page.html`);
    await page.waitForFunction(() => window.benchReady === true);
    await page.evaluate(([how, url]) => window.bench[how](url), [start, `/events?stream=${stream}`]);
    pages.push(page);
  }
  for (const page of pages) await page.waitForFunction(() => window.bench.record.state === 'open', null, { timeout: 30_000 }).catch(() => {});
  await sleep(500);
  const upstreams = (await stats()).perStream[stream]?.open ?? 0;
  await fetch(`${server.url}/publish/burst`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ count: COUNT, rate: RATE, type: 'bench', stream }),
  });
  const deadline = Date.now() + 60_000;
  let records;
  for (;;) {
    records = await Promise.all(pages.map((p) => p.evaluate(() => ({ n: window.bench.record.latencies.length, outOfOrder: window.bench.record.outOfOrder }))));
    if (records.every((r) => r.n >= COUNT) || Date.now() > deadline) break;
    await sleep(250);
  }
  const heap = start === 'ssemux' ? await workerHeapMb() : NaN;
  const latencies = (await Promise.all(pages.map((p) => p.evaluate(() => window.bench.record.latencies)))).flat().sort((a, b) => a - b);
  await context.close();
  const delivered = records.reduce((sum, r) => sum + r.n, 0);
  return {
    label,
    tabs,
    upstreams,
    delivered: `${delivered} / ${tabs * COUNT}`,
    outOfOrder: records.reduce((sum, r) => sum + r.outOfOrder, 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    workerHeapMb: Number.isNaN(heap) ? '-' : heap.toFixed(1),
  };
}

try {
  const rows = [];
  rows.push(await run('ssemux (shared-worker)', TABS, 'ssemux', 'bench-ssemux'));
  rows.push(await run('plain EventSource', PLAIN_TABS, 'plain', 'bench-plain'));
  console.log(`\n${COUNT} events at ${RATE}/s, Chromium ${browser.version()}, ${new Date().toISOString()}`);
  console.log('| client | tabs | upstream connections | events delivered | out of order | p50 ms | p99 ms | worker heap MB |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.label} | ${r.tabs} | ${r.upstreams} | ${r.delivered} | ${r.outOfOrder} | ${r.p50} | ${r.p99} | ${r.workerHeapMb} |`);
} finally {
  await browser.close();
  await server.close();
}

if (existsSync(`${root}/bench/parser-bench.mjs`) && process.env.BENCH_PARSER !== '0') {
  spawnSync(process.execPath, [`${root}/bench/parser-bench.mjs`], { stdio: 'inherit' });
}
