import { writeFileSync } from 'node:fs';
import { createDemoServer } from '../demo-server/server.js';
import { launchBrowser } from './lib/browser.mjs';
const root = new URL('..', import.meta.url).pathname;
const demo = await createDemoServer({ port: 0, staticDirs: [{ prefix: '/dist', dir: `${root}/dist` }, { prefix: '/', dir: `${root}/bench` }] });
let seq = 0;
const ticker = setInterval(() => void demo.publish({ stream: 'ft', type: 'tick', data: { seq: seq++, t: Date.now() } }), 10);
const chromium = await launchBrowser();
const kind = process.argv[2] ?? 'ssemux';
try {
  const url = `${demo.url}/${kind}.html?stream=ft&type=tick&sharing=shared-worker`;
  // warm-up context
  { const c = await chromium.browser.newContext(); const p = await c.newPage(); await p.goto(url); await p.waitForFunction(() => window.benchRecorder.record.delivered > 0); await c.close(); }
  const context = await chromium.browser.newContext();
  const page = await context.newPage();
  await chromium.browser.startTracing(undefined, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'loading', 'blink.user_timing', 'v8', 'toplevel', 'navigation', 'blink', 'netlog', 'disabled-by-default-network', 'ServiceWorker', 'browser', 'content', 'ipc', 'mojom', 'v8.execute', 'devtools.timeline.async', 'disabled-by-default-v8.compile'] });
  await page.goto(url);
  await page.waitForFunction(() => window.benchRecorder.record.delivered > 0);
  const timings = await page.evaluate(() => window.bench.timings());
  const buf = await chromium.browser.stopTracing();
  writeFileSync(`/tmp/ft/${kind}.json`, buf);
  console.log(timings);
} finally {
  clearInterval(ticker);
  await chromium.close();
  await demo.close();
}
