// V8 CPU profiles of a tab or a SharedWorker over the DevTools protocol, and where their time
// went: by kind of work (the categories below) and by function, names and lines taken back to
// src/ through dist/'s source maps.
//
// A tab is profiled through its page's CDP session. A SharedWorker has no page: the browser's
// session attaches to its target and talks to it through Target.sendMessageToTarget (the
// non-flattened mode, the one a Playwright CDP session can carry).
import { readFileSync, existsSync } from 'node:fs';
import { SourceMap } from 'node:module';

/** Microseconds between two samples: fine enough for functions of a few microseconds a call. */
export const SAMPLING_INTERVAL_US = 100;

/** Starts profiling a page; stop() resolves with its profile. */
export async function profilePage(context, page) {
  const session = await context.newCDPSession(page);
  return start((method, params) => session.send(method, params), () => session.detach().catch(() => {}));
}

/**
 * Starts profiling the SharedWorker of `page`'s browser context whose URL includes `urlPart`;
 * stop() resolves with its profile.
 */
export async function profileSharedWorker(browser, context, page, urlPart) {
  const pageSession = await context.newCDPSession(page);
  const { targetInfo } = await pageSession.send('Target.getTargetInfo');
  await pageSession.detach();
  const session = await browser.newBrowserCDPSession();
  const { targetInfos } = await session.send('Target.getTargets');
  const target = targetInfos.find((t) => t.type === 'shared_worker' && t.browserContextId === targetInfo.browserContextId && t.url.includes(urlPart));
  if (!target) throw new Error(`no SharedWorker at ${urlPart} (targets: ${targetInfos.map((t) => `${t.type} ${t.url}`).join(', ')})`);
  const { sessionId } = await session.send('Target.attachToTarget', { targetId: target.targetId, flatten: false });
  let nextId = 0;
  const waiting = new Map();
  session.on('Target.receivedMessageFromTarget', (event) => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message);
    const settle = waiting.get(message.id);
    if (!settle) return;
    waiting.delete(message.id);
    if (message.error) settle.reject(new Error(`${message.error.message} (${message.error.code})`));
    else settle.resolve(message.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, { resolve, reject });
      session.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  const end = async () => {
    await session.send('Target.detachFromTarget', { sessionId }).catch(() => {});
    await session.detach().catch(() => {});
  };
  return start(send, end);
}

async function start(send, end) {
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  await send('Profiler.start');
  return {
    async stop() {
      try {
        const { profile } = await send('Profiler.stop');
        return profile;
      } finally {
        await end();
      }
    },
  };
}

/**
 * What a sample's time is counted as. The leaf decides for V8's own nodes and for the natives
 * named here (their callers would otherwise take their time); any other native (split, slice,
 * push, …) counts for the nearest caller that has a script, whose file decides.
 */
const LEAF_CATEGORIES = {
  '(garbage collector)': 'GC',
  '(idle)': 'idle',
  '(program)': 'browser, outside JS (message dispatch, structured clone on receipt, I/O)',
  postMessage: 'postMessage (structured clone on send)',
  parse: 'JSON.parse',
};
const FILE_CATEGORIES = [
  [/src\/engine\/parser\.ts$/, 'SSE parser (src/engine/parser.ts)'],
  [/src\/engine\/(connection|transports\/).*\.ts$/, 'upstream read and connection (fetch stream, TextDecoder, onEvent)'],
  [/src\/hub\/catch-up-ring\.ts$/, 'catch-up ring'],
  [/src\/hub\/.*\.ts$/, 'hub: routing, positions, collect, flush'],
  [/src\/sharing\/encode-frames\.ts$/, 'encode frames'],
  [/src\/sharing\/decode-frames\.ts$/, 'decode frames'],
  [/src\/sharing\/(hub-host|shared-worker-host|leader-link|shared-worker-link|rpc|session-link|local-link|wrap|inbox)\.ts$/, 'sharing: ports, channels, dispatch'],
  [/src\/client\/.*\.ts$/, 'client: messages, listener dispatch'],
  [/(recorder\.js|ssemux\.html|bare\.js|plain\.js)$/, "the bench page's listener (latency histogram, order check)"],
  [/bare-worker\.js$/, 'bare sharer: batch and post'],
];

/**
 * Source maps of dist/ files (and of each variant's, served at /variant/<name>/dist/), by URL
 * path, loaded once. Every build maps back to the same src/ (a variant's patched lines aside).
 */
function createResolver(root, variants) {
  const maps = new Map();
  const sources = new Map();
  const mapOf = (url) => {
    const match = url.match(/(?:\/variant\/([\w-]+))?\/dist\/([^?#]*\.js)/);
    if (!match) return null;
    const dir = match[1] ? variants.find((v) => v.name === match[1])?.dir : `${root}/dist`;
    const file = `${dir}/${match[2]}.map`;
    if (!maps.has(file)) maps.set(file, existsSync(file) ? new SourceMap(JSON.parse(readFileSync(file, 'utf8'))) : null);
    return maps.get(file);
  };
  const lineOf = (file, line) => {
    if (!sources.has(file)) sources.set(file, existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []);
    return sources.get(file)[line] ?? '';
  };
  /** `{ file, line, name }` of a call frame: in src/ for dist/ code, else as the browser saw it. */
  return (frame) => {
    if (!frame.url) return { file: '', line: 0, name: frame.functionName || '(anonymous)' };
    const map = mapOf(frame.url);
    const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
    if (!entry?.originalSource) {
      const file = new URL(frame.url).pathname.replace(/^\//, '');
      return { file, line: frame.lineNumber + 1, name: frame.functionName || '(anonymous)' };
    }
    const file = entry.originalSource.replace(/^(\.\.\/)+/, '');
    const text = lineOf(`${root}/${file}`, entry.originalLine);
    // The function's name as the source writes it: `function x(`, `x(…) {`, `x: (`, `const x = (`.
    const name = text.match(/function\s*\*?\s*([\w$]+)/)?.[1] ?? text.match(/^\s*(?:async\s+)?(?:get\s+|set\s+)?([\w$]+)\s*\(/)?.[1] ?? text.match(/([\w$]+)\s*[:=]\s*(?:async\s*)?(?:\([^)]*\)|[\w$]+)\s*=>/)?.[1] ?? text.match(/([\w$]+)\s*[:=]\s*(?:async\s+)?function/)?.[1];
    return { file, line: entry.originalLine + 1, name: name ?? `${frame.functionName || '(anonymous)'} [${text.trim().slice(0, 40)}]` };
  };
}

/**
 * Where a profile's time went.
 * @returns {{ totalMs: number, busyMs: number, longestBusy: { ms: number, kind: string, kindMs: number }, categories: Record<string, number>, functions: { name: string, selfMs: number }[] }}
 *   milliseconds; `categories` splits the busy time (everything but idle), `functions` is self
 *   time by function, largest first; `longestBusy` is the longest stretch with no idle sample.
 */
export function summarize(profile, root, variants = []) {
  const resolve = createResolver(root, variants);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const info = new Map(); // node id → { category, fn }
  const categoryOf = (id) => {
    const leaf = nodes.get(id);
    if (LEAF_CATEGORIES[leaf.callFrame.functionName] && !leaf.callFrame.url) return LEAF_CATEGORIES[leaf.callFrame.functionName];
    for (let n = leaf; n; n = nodes.get(parent.get(n.id))) {
      if (!n.callFrame.url) continue;
      const { file } = resolve(n.callFrame);
      return FILE_CATEGORIES.find(([pattern]) => pattern.test(file))?.[1] ?? `other: ${file}`;
    }
    return `other: ${leaf.callFrame.functionName || '(anonymous)'}`;
  };
  const describe = (id) => {
    let x = info.get(id);
    if (!x) {
      const frame = nodes.get(id).callFrame;
      const where = resolve(frame);
      let fn = where.file ? `${where.name} (${where.file}:${where.line})` : where.name;
      // A native other than V8's own nodes: named with the function that called it.
      const caller = nodes.get(parent.get(id));
      if (!frame.url && !frame.functionName.startsWith('(') && caller?.callFrame.url) {
        const by = resolve(caller.callFrame);
        fn = `${where.name} ← ${by.name} (${by.file}:${by.line})`;
      }
      info.set(id, (x = { category: categoryOf(id), fn }));
    }
    return x;
  };
  const categories = {};
  const functions = {};
  let total = 0;
  let idle = 0;
  // The longest stretch without an idle sample (what a late event waited behind), and its largest kind of work.
  let stretch = { us: 0, categories: {} };
  let longest = stretch;
  // Sample i lasted until sample i + 1 (the last one: one interval).
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    const us = i + 1 < samples.length ? timeDeltas[i + 1] : SAMPLING_INTERVAL_US;
    const { category, fn } = describe(samples[i]);
    total += us;
    if (category === 'idle') {
      idle += us;
      stretch = { us: 0, categories: {} };
      continue;
    }
    stretch.us += us;
    stretch.categories[category] = (stretch.categories[category] ?? 0) + us;
    if (stretch.us > longest.us) longest = stretch;
    categories[category] = (categories[category] ?? 0) + us;
    functions[fn] = (functions[fn] ?? 0) + us;
  }
  const ms = (us) => us / 1000;
  const [longestKind, longestKindUs] = Object.entries(longest.categories).sort((a, b) => b[1] - a[1])[0] ?? ['-', 0];
  return {
    totalMs: ms(total),
    busyMs: ms(total - idle),
    longestBusy: { ms: ms(longest.us), kind: longestKind, kindMs: ms(longestKindUs) },
    categories: Object.fromEntries(Object.entries(categories).map(([k, v]) => [k, ms(v)])),
    functions: Object.entries(functions)
      .map(([name, us]) => ({ name, selfMs: ms(us) }))
      .sort((a, b) => b.selfMs - a.selfMs),
  };
}
