// Part 1, size: what a page downloads of ssemux before its first event in shared-worker mode.
//
// A fresh browser context (empty HTTP cache, like a first visit) opens ssemux.html; every
// response under /dist/ that the browser's network log shows (Playwright's request events,
// which come from the browser's DevTools network domain and include the SharedWorker's script)
// until the first event reaches the listener is one file downloaded. Each counts with the gzip
// -9 size of the bytes the browser got (the demo server does not compress; a production server
// would). The server's own request log is a cross-check: a /dist/ file it served that the
// browser's log missed is added and flagged. Then the other dist files from disk, and the peers,
// each bundled with its dependencies by rolldown (minified ESM, as an app's bundler would ship
// it), measured the same way.
import { readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { rolldown } from 'rolldown';
import { sleep } from '../lib/stats.mjs';

const gzip = (bytes) => gzipSync(bytes, { level: 9 }).length;

/** Peers, for context: what each does differs (see the notes in the table). */
export const PEERS = [
  { name: '@github/alive-client', note: 'WebSocket client, SharedWorker-ready' },
  { name: 'tab-election', note: 'leader election between tabs only' },
  { name: 'eventsource', note: 'EventSource polyfill (fetch)' },
  { name: '@microsoft/fetch-event-source', note: 'fetch SSE, one tab' },
];

export async function size({ browser, demo, root, variants = [], log }) {
  let firstEventSeen = false;
  const served = [];
  const onRequest = (req) => {
    const path = (req.originalUrl ?? req.url).split('?')[0];
    if (path.startsWith('/dist/') && !firstEventSeen) served.push(path);
  };
  demo.server.on('request', onRequest);
  let seq = 0;
  const ticker = setInterval(() => void demo.publish({ stream: 'size', type: 'tick', data: { seq: seq++, t: Date.now() } }), 10);
  const context = await browser.newContext();
  const requested = []; // paths in the order the browser asked
  const bodies = new Map(); // path → Promise<Buffer | null>
  context.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/dist/') && !firstEventSeen) requested.push(path);
  });
  context.on('response', (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith('/dist/')) bodies.set(path, response.body().catch(() => null));
  });
  let sharing;
  try {
    const page = await context.newPage();
    await page.goto(`${demo.url}/ssemux.html?stream=size&type=tick&sharing=shared-worker`);
    await page.waitForFunction(() => window.benchRecorder.record.delivered > 0, null, { timeout: 30_000 });
    firstEventSeen = true;
    sharing = await page.evaluate(() => window.benchRecorder.record.sharing);
    await sleep(200); // response bodies of what was requested
  } finally {
    clearInterval(ticker);
    demo.server.off('request', onRequest);
    await context.close();
  }

  const onlyServer = [...new Set(served)].filter((p) => !requested.includes(p));
  const files = [];
  for (const path of [...new Set([...requested, ...onlyServer])]) {
    let body = await bodies.get(path);
    // DevTools does not hand over the body of a SharedWorker's script: ask the server again
    // for the same URL (same bytes, unless dist/ was rebuilt in between).
    const refetched = !body;
    body ??= Buffer.from(await (await fetch(`${demo.url}${path}`)).arrayBuffer());
    files.push({ path, raw: body.length, gzip: gzip(body), refetched, onlyServer: onlyServer.includes(path) });
  }

  // Every other dist file, from disk.
  const distFiles = [
    ...readdirSync(`${root}/dist`).filter((f) => f.endsWith('.js')),
    ...readdirSync(`${root}/dist/chunks`).filter((f) => f.endsWith('.js')).map((f) => `chunks/${f}`),
  ];
  const others = distFiles
    .map((f) => `/dist/${f}`)
    .filter((p) => !files.some((f) => f.path === p))
    .map((path) => {
      const body = readFileSync(`${root}${path}`);
      return { path, raw: body.length, gzip: gzip(body) };
    });

  const bundles = [];
  for (const peer of [{ name: 'ssemux', note: 'this library, bundled the same way (lazy chunks apart)' }, ...PEERS]) {
    try {
      // Read directly: not every package exports its package.json.
      const manifest = peer.name === 'ssemux' ? `${root}/package.json` : `${root}/node_modules/${peer.name}/package.json`;
      const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
      bundles.push({ ...peer, version, ...(await bundle(peer.name, root)) });
    } catch (error) {
      log(`  ${peer.name}: not measured (${error.message.split('\n')[0]})`);
      bundles.push({ ...peer, error: 'not installed' });
    }
  }
  // Each build of BENCH_VARIANTS: its tab entry and its worker, from disk, against dist/'s.
  const variantSizes = variants.map((v) => ({
    name: v.name,
    files: ['ssemux.js', 'ssemux-worker.js'].map((f) => {
      const body = readFileSync(`${v.dir}/${f}`);
      const base = readFileSync(`${root}/dist/${f}`);
      return { path: f, raw: body.length, gzip: gzip(body), baseGzip: gzip(base) };
    }),
  }));
  return { sharing, files, others, bundles, variants: variantSizes };
}

/**
 * `export * from '<name>'` bundled by rolldown for the browser, minified, dependencies included:
 * the entry chunk's bytes, and all chunks' (dynamic imports stay separate chunks).
 */
async function bundle(name, root) {
  const entry = '\0bench-entry';
  const build = await rolldown({
    input: entry,
    cwd: root,
    platform: 'browser',
    logLevel: 'silent',
    plugins: [{ name: 'bench-entry', resolveId: (id) => (id === entry ? id : null), load: (id) => (id === entry ? `export * from ${JSON.stringify(name)};` : null) }],
  });
  try {
    const { output } = await build.generate({ format: 'esm', minify: true });
    const chunks = output.filter((o) => o.type === 'chunk');
    const entryChunk = chunks.find((c) => c.isEntry);
    return {
      raw: Buffer.byteLength(entryChunk.code),
      gzip: gzip(entryChunk.code),
      chunks: chunks.length,
      allGzip: chunks.reduce((sum, c) => sum + gzip(c.code), 0),
    };
  } finally {
    await build.close();
  }
}
