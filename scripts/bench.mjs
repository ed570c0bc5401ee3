// `npm run bench`: ssemux against the alternatives, side by side in one run, in real Chromium.
// Prints one Markdown table on stdout, after a header line (Chromium, Node, date, machine);
// progress goes to stderr. The parts (bench/parts/*.mjs say what and how each measures):
//
//   size     bytes of ssemux a page downloads before its first event (shared-worker mode, taken
//            from the browser's network log), every dist file, and the peers' bundles
//   newtab   a new tab joining 3 open tabs: navigation start → first event, ssemux vs EventSource
//            (and a bare SharedWorker sharer); and the first tab of an origin, its worker starting
//   fanout   20 tabs × 10,000, 20,000 and 40,000 events/s: ssemux (shared-worker, leader) vs a
//            bare SharedWorker sharer (the floor) and plain EventSource over HTTP/1.1 and HTTP/2;
//            delivery, order, latency, CPU, and the ratios ssemux / bare sharer at p50 and p99
//   topics   10 topics over 6 tabs: one upstream with topics vs one stream per topic
//   server   bench/server-bench.mjs: 10,000 connections, memory / Redis store vs better-sse
//   parser   bench/parser-bench.mjs: ssemux's parser vs eventsource-parser
//   profile  only when named in BENCH_ONLY: V8 CPU profiles at 20 tabs × 40,000 events/s of the
//            hub's side (the SharedWorker, the leader tab) and of a receiving tab, ssemux vs the
//            bare sharer: busy time by kind of work and by function
//   firsttab only when named in BENCH_ONLY: the first tab's way to its first event, traced
//            (worker script asked, worker started, evaluated, upstream asked, answered)
//
// Environment:
//   BENCH_ONLY=size,newtab,...  run only these parts;  BENCH_SKIP=server,parser  skip these
//   BENCH_BUILD=0               use dist/ as it is (default: `node scripts/build.mjs lib` first)
//   BENCH_FANOUT_TABS (20), BENCH_FANOUT_RATES (10000,20000,40000), BENCH_FANOUT_SECONDS (2)
//   BENCH_FANOUT_CLIENTS=shared-worker,leader,bare  only the fan-out rows whose label has one of these
//   BENCH_FANOUT_ROUNDS (1)     every fan-out row this many times, the rows taking turns: medians
//   BENCH_FANOUT_REPEAT (1)     each rate this many times in a row on the same tabs
//   BENCH_NEWTAB_RUNS (20)      new tabs of each kind
//   BENCH_FIRSTTAB_RUNS (20)    first tabs of an origin of each kind, per visit (empty, warm cache)
//   BENCH_TOPIC_RATE (500)      events/s over all topics, for 4 s
//   BENCH_PROFILE_RATE (40000)  the profiled burst's events/s (BENCH_FANOUT_TABS, _SECONDS, _CLIENTS apply)
//   BENCH_PROFILE_DIR           where the .cpuprofile files go (default: a new temporary directory)
//   BENCH_ANATOMY_RUNS (10)     traced first tabs of each kind
//   BENCH_QUIET=<cores>         on a shared machine: each measured burst (fanout, topics, profile)
//                               waits until other work uses fewer cores than this, and runs again
//                               when it used more than twice that (bench/lib/quiet.mjs)
//   BENCH_VARIANTS=name=dir,…   other builds of ssemux (dist/ directories; bench/build-variant.mjs
//                               makes one from patches): rows of their own in newtab, fanout, profile
//   bench/server-bench.mjs reads BENCH_CONNECTIONS, BENCH_RATE, BENCH_SECONDS, BENCH_BURST, BENCH_SERVERS
//
// Everything started here is stopped here: the demo server (in this process, as the tests use
// it), the HTTP/2 front, Chromium, and the child processes of the server and parser parts
// (which stop their own servers and redis-server).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createDemoServer } from '../demo-server/server.js';
import { launchBrowser } from '../bench/lib/browser.mjs';
import { startHttp2Front } from '../bench/lib/http2-server.mjs';
import { prepareVariants } from '../bench/lib/variants.mjs';
import { renderTable } from '../bench/lib/report.mjs';
import { fanOut } from '../bench/parts/fanout.mjs';
import { newTab } from '../bench/parts/newtab.mjs';
import { profile } from '../bench/parts/profile.mjs';
import { firstTabAnatomy } from '../bench/parts/firsttab.mjs';
import { size } from '../bench/parts/size.mjs';
import { topics } from '../bench/parts/topics.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const ALL_PARTS = ['size', 'newtab', 'fanout', 'topics', 'server', 'parser', 'profile', 'firsttab'];
/** Parts that run only when BENCH_ONLY names them. */
const ON_REQUEST = ['profile', 'firsttab'];
const listEnv = (name) => (process.env[name] ? process.env[name].split(',').map((s) => s.trim()).filter(Boolean) : null);
const only = listEnv('BENCH_ONLY');
const skip = listEnv('BENCH_SKIP') ?? [];
for (const part of [...(only ?? []), ...skip]) if (!ALL_PARTS.includes(part)) throw new Error(`unknown part "${part}" (parts: ${ALL_PARTS.join(', ')})`);
const runs = (part) => (only ? only.includes(part) : !ON_REQUEST.includes(part)) && !skip.includes(part);

const TABS = Number(process.env.BENCH_FANOUT_TABS ?? 20);
const RATES = (listEnv('BENCH_FANOUT_RATES') ?? ['10000', '20000', '40000']).map(Number);
const SECONDS = Number(process.env.BENCH_FANOUT_SECONDS ?? 2);
const ROUNDS = Number(process.env.BENCH_FANOUT_ROUNDS ?? 1);
const REPEAT = Number(process.env.BENCH_FANOUT_REPEAT ?? 1);
const NEWTAB_RUNS = Number(process.env.BENCH_NEWTAB_RUNS ?? 20);
const FIRSTTAB_RUNS = Number(process.env.BENCH_FIRSTTAB_RUNS ?? 20);
const TOPIC_RATE = Number(process.env.BENCH_TOPIC_RATE ?? 500);
const PROFILE_RATE = Number(process.env.BENCH_PROFILE_RATE ?? 40_000);
const ANATOMY_RUNS = Number(process.env.BENCH_ANATOMY_RUNS ?? 10);

/** The child process of the part running now (server, parser). */
let current = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  // Playwright closes Chromium on exit by itself; the servers live in this process.
  process.on(signal, () => {
    current?.kill('SIGTERM'); // server-bench.mjs then stops its server processes and redis-server
    process.exit(130);
  });
}

const log = (line) => process.stderr.write(`${line}\n`);
const results = {};
const started = Date.now();
const loadAtStart = os.loadavg()[0];

const browserParts = ['size', 'newtab', 'fanout', 'topics', 'profile', 'firsttab'].filter(runs);
if (browserParts.length > 0 && (!existsSync(`${root}/dist/ssemux.js`) || process.env.BENCH_BUILD !== '0')) {
  log('building the library (node scripts/build.mjs lib)');
  // The build's output goes to stderr: stdout is the table's.
  if (spawnSync(process.execPath, [`${root}/scripts/build.mjs`, 'lib'], { stdio: ['ignore', 2, 2] }).status !== 0) process.exit(1);
}

let chromiumVersion = '-';
if (browserParts.length > 0) {
  // The demo server keeps 200,000 events (the largest burst it accepts) instead of its 5,000, so
  // that a tab that reconnects during a burst resumes instead of reporting a gap.
  const variants = prepareVariants(root);
  const demo = await createDemoServer({
    port: 0,
    bufferSize: 200_000,
    staticDirs: [
      ...variants.staticDirs,
      { prefix: '/dist', dir: `${root}/dist` },
      { prefix: '/', dir: `${root}/bench` },
    ],
  });
  let http2;
  let chromium;
  try {
    http2 = await startHttp2Front({ demo });
    chromium = await launchBrowser();
    chromiumVersion = chromium.version;
    const common = { browser: chromium.browser, browserPid: chromium.pid, demo, http2, root, log, variants: variants.variants, quiet: Number(process.env.BENCH_QUIET) || undefined };
    // A part that fails (dist/ rebuilt under it, say) is reported as failed; the others still run.
    const time = async (part, fn) => {
      const t0 = Date.now();
      log(`${part}…`);
      try {
        results[part] = await fn();
      } catch (error) {
        log(`${part} failed: ${error.stack ?? error}`);
        results[part] = { error: String(error.message ?? error).split('\n')[0] };
      }
      log(`${part}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    };
    if (runs('size')) await time('size', () => size(common));
    if (runs('newtab')) await time('newtab', () => newTab({ ...common, runs: NEWTAB_RUNS, firstTabRuns: FIRSTTAB_RUNS }));
    if (runs('fanout')) {
      await time('fanout', async () => ({ tabs: TABS, seconds: SECONDS, rounds: ROUNDS, repeat: REPEAT, results: await fanOut({ ...common, rates: RATES, tabs: TABS, seconds: SECONDS, rounds: ROUNDS, repeat: REPEAT }) }));
    }
    if (runs('topics')) await time('topics', () => topics({ ...common, rate: TOPIC_RATE, seconds: 4 }));
    if (runs('profile')) await time('profile', () => profile({ ...common, tabs: TABS, rate: PROFILE_RATE, seconds: SECONDS }));
    if (runs('firsttab')) await time('firsttab', () => firstTabAnatomy({ ...common, runs: ANATOMY_RUNS }));
  } finally {
    await chromium?.close();
    await http2?.close();
    await demo.close();
    variants.close();
  }
}

// The Node-only parts run after Chromium is gone, so that they have the machine to themselves.
/** Runs `node <script> --json` and returns the JSON line it prints last. */
async function runJson(part, script) {
  const t0 = Date.now();
  log(`${part}…`);
  const child = (current = spawn(process.execPath, [script, '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] }));
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  current = null;
  log(`${part}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (code !== 0 || !line) return { error: `exit code ${code}` };
  return JSON.parse(line);
}
if (runs('server')) results.server = await runJson('server', `${root}/bench/server-bench.mjs`);
if (runs('parser')) results.parser = await runJson('parser', `${root}/bench/parser-bench.mjs`);

const cpu = os.cpus();
const machine = `${cpu[0]?.model.trim() ?? '?'} × ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load ${loadAtStart.toFixed(2)} at start`;
console.log(`\nssemux bench: Chromium ${chromiumVersion}, Node ${process.version}, ${new Date().toISOString()}, ${machine}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
console.log(renderTable(results));
