// @ts-check
// The eventsource suite (test/wpt/README.md) against SharedEventSource, the platform's EventSource
// and event-source-polyfill, side by side in one Chromium: prints the three scores and every
// subtest where SharedEventSource differs from the platform, and fails when SharedEventSource
// fails a subtest the platform passes that is not a known, explained difference (DIFFERENCES).
// Reads dist/: build first (npm test does). `node test/wpt/run.mjs [--json file] [--only <part of a name>]`.
import { writeFileSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../support/chromium.js';
import { startWptServer } from './server.mjs';

/**
 * Subtests the platform passes and SharedEventSource cannot, by design or by what script can do,
 * each with why. The suite fails if another subtest differs.
 */
export const DIFFERENCES = {
  'EventSource message events are trusted': 'script cannot make a trusted event: isTrusted is false on every event SharedEventSource dispatches',
  'A live response delivers its first message without waiting for EOF': 'the same: it asserts isTrusted (the message itself arrives before the end of the response)',
  'BOM, mixed line endings, event name and lastEventId reach script': 'the same: it asserts isTrusted (the event, its data and lastEventId are right)',
  'An invalid MIME type fails the connection with CLOSED and a trusted error': 'the same: it asserts isTrusted (the connection fails, CLOSED, as the platform)',
  'MessageEvent.origin is the origin of the final URL after a cross-origin redirect': "origin is that of the URL asked for: the response reached a SharedWorker or another tab, which does not pass on the URL it was redirected to",
  'EventSource: cross-origin preflight - safe `last-event-id` (no preflight)': "fetch sends a Last-Event-ID header only after a CORS preflight, whatever its value: the platform's EventSource is the one requester the Fetch standard lets send it without one",
  'EventSource: credentials: credentials enabled': 'the same preflight: its reconnection sends Last-Event-ID cross-origin, and the resource does not answer the preflight (it passes when it allows the header)',
  'EventSource: credentials: credentials disabled': 'the same preflight, on the reconnection with Last-Event-ID',
  'EventSource: credentials: credentials default': 'the same preflight, on the reconnection with Last-Event-ID',
  'EventSource: request cancellation': "window.stop() aborts the document's own fetches; the shared stream's request runs in a SharedWorker (or another tab), which no page's stop() reaches",
};

const KINDS = ['ssemux', 'platform', 'polyfill'];

const jsonAt = process.argv.indexOf('--json');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] ?? '' : '';
const server = await startWptServer();
const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs, headless: true });
let failed = false;
try {
  const runs = await Promise.all(
    KINDS.map(async (kind) => {
      // A context each: its own cookies, connections and SharedWorker.
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.origin}/eventsource/runner.html?kind=${kind}&cross=${encodeURIComponent(server.crossOrigin)}&only=${encodeURIComponent(only)}`);
      await page.waitForFunction(() => /** @type {any} */ (window).runnerReady === true);
      const run = /** @type {{ label: string, results: { name: string, file: string, status: string, message: string }[] }} */ (
        await page.evaluate(() => /** @type {any} */ (window).runAll())
      );
      await context.close();
      return { kind, ...run, byName: new Map(run.results.map((r) => [r.name, r])) };
    }),
  );
  const [ssemux, platform, polyfill] = /** @type {[typeof runs[0], typeof runs[0], typeof runs[0]]} */ (runs);
  const total = platform.results.length;
  const score = (/** @type {typeof ssemux} */ run) => run.results.filter((r) => r.status === 'pass').length;
  const version = browser.version();
  console.log(`\nweb-platform-tests eventsource/, ${total} window subtests, Chromium ${version} (test/wpt/README.md)`);
  console.log(`  ${'SharedEventSource'.padEnd(24)}${'EventSource (platform)'.padEnd(26)}event-source-polyfill`);
  console.log(`  ${`${score(ssemux)}/${total}`.padEnd(24)}${`${score(platform)}/${total}`.padEnd(26)}${score(polyfill)}/${total}`);

  const names = platform.results.map((r) => r.name).sort();
  const differ = names.filter((name) => (ssemux.byName.get(name)?.status === 'pass') !== (platform.byName.get(name)?.status === 'pass'));
  if (differ.length) console.log('\nwhere SharedEventSource differs from the platform:');
  for (const name of differ) {
    const s = ssemux.byName.get(name);
    const p = platform.byName.get(name);
    const why = DIFFERENCES[/** @type {keyof typeof DIFFERENCES} */ (name)];
    const mark = p?.status === 'pass' && !why ? 'UNEXPECTED' : p?.status === 'pass' ? 'known' : 'better';
    if (mark === 'UNEXPECTED') failed = true;
    console.log(`  [${mark}] ${name}\n      SharedEventSource: ${s?.status}${s?.message ? ` (${s.message})` : ''}; platform: ${p?.status}${p?.message ? ` (${p.message})` : ''}`);
    if (why) console.log(`      why: ${why}`);
  }
  for (const name of Object.keys(DIFFERENCES)) {
    if (!differ.includes(name) && ssemux.byName.get(name)?.status === 'pass') console.log(`  note: a known difference no longer differs: ${name}`);
  }
  const failing = names.filter((name) => platform.byName.get(name)?.status !== 'pass');
  if (failing.length) console.log(`\nsubtests the platform fails here: ${failing.map((n) => `${n} (${platform.byName.get(n)?.status})`).join('; ')}`);
  if (jsonAt > 0) writeFileSync(process.argv[jsonAt + 1] ?? 'test-results/wpt.json', JSON.stringify(runs.map(({ byName: _b, ...r }) => r), null, 2));
  console.log(failed ? '\nwpt: SharedEventSource fails subtests the platform passes (UNEXPECTED above)' : '\nwpt: SharedEventSource passes every subtest the platform passes, but the known differences');
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
