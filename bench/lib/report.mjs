// The one Markdown table of `npm run bench`. Its parts measure different things, so the table
// has generic columns and each part opens with a bold row that names them for its rows.
import { ANATOMY_STEPS } from '../parts/firsttab.mjs';
import { fixed, int } from './stats.mjs';

const COLUMNS = 9;
const cell = (text) => String(text).replaceAll('|', '\\|');
const row = (...cells) => `| ${[...cells, ...Array(Math.max(0, COLUMNS - cells.length)).fill('')].map(cell).join(' | ')} |`;
const head = (...cells) => row(...cells.map((c) => (c ? `**${c}**` : '')));
const ms = (n) => (Number.isFinite(n) ? int(n) : '-');
const sum = (list, key) => list.reduce((s, x) => s + x[key], 0);

/** @param {Record<string, any>} r  results by part name (absent: skipped; `{ error }`: failed) */
export function renderTable(r) {
  const lines = [row('part / case', ...Array.from({ length: COLUMNS - 1 }, (_, i) => `(${i + 1})`)), `|${' --- |'.repeat(COLUMNS)}`];
  const parts = [
    ['1. Size', r.size, size],
    ['2. New tab', r.newtab, newTab],
    ['3. Fan-out', r.fanout, fanOut],
    ['4. Topics', r.topics, topics],
    ['5. Server', r.server, server],
    ['6. Parser', r.parser, parser],
    ['7. Profiles', r.profile, profiles, 'on request'],
    ['8. First tab, traced', r.firsttab, anatomy, 'on request'],
  ];
  for (const [name, result, render, onRequest] of parts) {
    if (!result && onRequest) continue;
    if (!result) lines.push(row(`_${name}: skipped_`));
    else if (result.error) lines.push(row(`**${name}**`, `failed: ${result.error}`));
    else lines.push(...render(result));
  }
  return lines.join('\n');
}

function size({ files, others, bundles, sharing, variants = [] }) {
  const lines = [head(`1. Size${sharing === 'shared-worker' ? '' : ` (sharing was ${sharing}!)`}`, 'requested by the page', 'raw B', 'gzip -9 B', 'note')];
  for (const f of files) {
    const notes = [f.onlyServer && 'seen by the server only', f.refetched && 'body fetched again (DevTools gives none for a worker script)'];
    lines.push(row(f.path, 'yes, before its first event', int(f.raw), int(f.gzip), notes.filter(Boolean).join(', ')));
  }
  const worker = files.find((f) => f.path.endsWith('/ssemux-worker.js'));
  const page = files.filter((f) => f !== worker);
  lines.push(row('**ssemux downloaded before the first event**', `${files.length} files`, int(sum(files, 'raw')), `**${int(sum(files, 'gzip'))}**`, `page ${int(sum(page, 'gzip'))} + worker ${worker ? int(worker.gzip) : '?'}`));
  for (const f of others) lines.push(row(f.path, 'no', int(f.raw), int(f.gzip)));
  for (const b of bundles) {
    const label = `${b.name}${b.version ? ` ${b.version}` : ''}`;
    if (b.error) lines.push(row(label, '-', '-', '-', `${b.error}: not measured`));
    else lines.push(row(label, 'rolldown bundle, minified', int(b.raw), int(b.gzip), `${b.note}${b.chunks > 1 ? `; with its ${b.chunks - 1} lazy chunk(s): ${int(b.allGzip)} gz` : ''}`));
  }
  for (const v of variants) {
    for (const f of v.files) lines.push(row(`ssemux[${v.name}] ${f.path}`, 'the variant (BENCH_VARIANTS)', int(f.raw), int(f.gzip), `${f.gzip - f.baseGzip >= 0 ? '+' : ''}${int(f.gzip - f.baseGzip)} B gzip against dist/`));
  }
  return lines;
}

function newTab({ ssemux, plain, bare, variants = {}, firstTab }) {
  const line = (label, s) =>
    row(label, `**${ms(s.median)}**`, `${ms(s.min)}–${ms(s.max)}`, ms(s.steps.htmlLoaded), ms(s.steps.scriptsLoaded), ms(s.steps.moduleLoaded), ms(s.steps.clientCreate), ms(s.steps.clientCreated), ms(s.steps.open));
  return [
    head(
      `2. New tab while 3 tabs follow the stream, 1 event / 10 ms: ms from navigation start, median of ${ssemux.n} new tabs each (breakdown: medians)`,
      'first event',
      'min–max',
      'HTML loaded',
      'ssemux.js (+ chunks) loaded',
      'module evaluated',
      'createRealtimeClient called',
      'client created',
      'stream open',
    ),
    line(`ssemux (${ssemux.sharing}), joins the running upstream`, ssemux),
    line('plain EventSource, its own connection (created = `new EventSource`)', plain),
    line('a bare SharedWorker sharer (bench/bare-worker.js), joined (created = `new SharedWorker`)', bare),
    row('ratio ssemux / EventSource (first event)', `**${fixed(ssemux.median / plain.median, 2)}**`),
    row('ratio bare sharer / EventSource (first event): the floor of sharing through a SharedWorker', fixed(bare.median / plain.median, 2)),
    ...Object.entries(variants).flatMap(([name, v]) => [line(`${name} (${v.sharing}), joins the running upstream`, v), row(`ratio ${name} / EventSource (first event)`, `**${fixed(v.median / plain.median, 2)}**`)]),
    ...Object.entries(firstTab).flatMap(([visit, { ssemux: s, plain: p, bare: b, variants: vs = {} }]) => {
      const when = visit === 'empty' ? 'a first visit: empty HTTP cache' : 'a returning visitor: warm cache, no worker running';
      return [
        line(`the first tab of the origin, ssemux: its worker starts (${when}; median of ${s.n})`, s),
        line(`the first tab of the origin, plain EventSource (${when}; median of ${p.n})`, p),
        line(`the first tab of the origin, the bare sharer: its worker starts (${when}; median of ${b.n})`, b),
        row(`ratio ssemux / EventSource, first tab, ${visit === 'empty' ? 'first visit' : 'returning visitor'} (first event)`, `**${fixed(s.median / p.median, 2)}** (bare sharer ${fixed(b.median / p.median, 2)})`),
        ...Object.entries(vs).flatMap(([name, v]) => [
          line(`the first tab of the origin, ${name} (${when}; median of ${v.n})`, v),
          row(`ratio ${name} / EventSource, first tab, ${visit === 'empty' ? 'first visit' : 'returning visitor'} (first event)`, `**${fixed(v.median / p.median, 2)}**`),
        ]),
      ];
    }),
  ];
}

// Fan-out and topics share their columns.
const deliveryHead = (title) =>
  head(title, 'tabs connected', 'upstreams open (+ new)', 'delivered / expected', 'out of order', 'p50 ms', 'p99 ms', "browser CPU s (SharedWorker thread; tabs' main threads, the busiest; renderers' other threads; browser process; network and GPU)", 'Node CPU s');
/** The browser's CPU seconds and their split by thread (bench/lib/cpu.mjs). */
const browserCpu = (x) => {
  const t = x.cpuThreads;
  if (!t) return fixed(x.cpuBrowser);
  return `${fixed(x.cpuBrowser)} (${fixed(t.worker)}; ${fixed(t.tabs)}, ${fixed(t.busiestTab, 2)}; ${fixed(t.rendererOther)}; ${fixed(t.browser)}; ${fixed(t.other)})`;
};
/** A leader-mode row of ssemux (its mode in parentheses: a variant's name may hold the word). */
const leaderRow = (label) => label.includes('(leader');
function deliveryRow(x) {
  // An ssemux row that did not run in the sharing mode it is about says so.
  const expectedMode = leaderRow(x.label) ? 'leader' : 'shared-worker';
  const mode = x.label.startsWith('ssemux') && x.sharing !== expectedMode ? ` [sharing: ${x.sharing || '?'}]` : '';
  return row(
    `${x.label}${mode}${x.cut ? ` (${x.cut})` : ''}`,
    `${x.connected} / ${x.tabs}${x.loaded < x.tabs ? ` (${x.tabs - x.loaded} never loaded)` : ''}${x.notOpen ? ` (${x.notOpen})` : ''}`,
    `${x.upstreams}${x.newConnections ? ` (+${x.newConnections})` : ''}`,
    `${int(x.delivered)} / ${int(x.expected)}${x.messagesPerTab > 0 ? ` (${int(x.messagesPerTab)} messages a tab)` : ''}`,
    int(x.outOfOrder),
    x.p50Text ?? ms(x.p50),
    x.p99Text ?? ms(x.p99),
    browserCpu(x),
    `${fixed(x.cpuNode)}${Number.isFinite(x.othersCores) ? ` (others: ${fixed(x.othersCores, 2)} cores${x.attempts > 1 ? `, run ${x.attempts} times` : ''})` : ''}`,
  );
}

/** The median of `values` and, when there are several, all of them: "12 (10, 12, 15)". */
function spread(values, format) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { value: NaN, text: '-' };
  const value = sorted[Math.floor((sorted.length - 1) / 2)];
  return { value, text: sorted.length > 1 ? `${format(value)} (${sorted.map(format).join(', ')})` : format(value) };
}

/** One row of several runs of the same client and rate: counts summed, latencies and CPU the median of the runs. */
function overRuns(runs) {
  if (runs.length === 1) return runs[0];
  const p50 = spread(runs.map((x) => x.p50), ms);
  const p99 = spread(runs.map((x) => x.p99), ms);
  const cuts = [...new Set(runs.map((x) => x.cut).filter(Boolean))];
  return {
    ...runs[0],
    connected: Math.min(...runs.map((x) => x.connected)),
    delivered: sum(runs, 'delivered'),
    expected: sum(runs, 'expected'),
    outOfOrder: sum(runs, 'outOfOrder'),
    messagesPerTab: spread(runs.map((x) => x.messagesPerTab), int).value,
    p50: p50.value,
    p99: p99.value,
    p50Text: p50.text,
    p99Text: p99.text,
    cpuBrowser: spread(runs.map((x) => x.cpuBrowser), fixed).value,
    cpuThreads: runs[0].cpuThreads && Object.fromEntries(Object.keys(runs[0].cpuThreads).map((kind) => [kind, spread(runs.map((x) => x.cpuThreads[kind]), fixed).value])),
    cpuNode: spread(runs.map((x) => x.cpuNode), fixed).value,
    othersCores: Math.max(...runs.map((x) => x.othersCores)),
    attempts: Math.max(...runs.map((x) => x.attempts ?? 1)),
    cut: cuts.length ? `${cuts.join('; ')} (in ${runs.filter((x) => x.cut).length} of ${runs.length} runs)` : null,
    sharing: [...new Set(runs.map((x) => x.sharing))].join('+'),
  };
}

function fanOut({ results, tabs, seconds, rounds = 1, repeat = 1 }) {
  const lines = [];
  const labels = [...new Set(results.map((x) => x.label))];
  const bare = labels.find((l) => l.startsWith('bare SharedWorker sharer ('));
  const bareFetch = labels.find((l) => l.startsWith('bare SharedWorker sharer over fetch'));
  const shared = labels.find((l) => l.startsWith('ssemux (shared-worker'));
  const leader = labels.find((l) => l.startsWith('ssemux (leader'));
  for (const rate of new Set(results.map((x) => x.rate))) {
    const ofRate = results.filter((y) => y.rate === rate);
    lines.push(deliveryHead(`3. Fan-out: ${tabs} tabs, ${int(rate)} events/s for ${seconds} s (POST /publish/burst)${rounds * repeat > 1 ? `; median of ${rounds * repeat} runs (${rounds} rounds × ${repeat}; each run's value in parentheses)` : ''}`));
    for (const label of labels) lines.push(deliveryRow(overRuns(ofRate.filter((x) => x.label === label))));
    /** `a` / `b` at p50 and p99, taken within each run (same round and repeat), then the median of the runs. */
    const ratio = (a, b, text) => {
      if (!a || !b) return;
      const run = (x) => `${x.round}/${x.again ?? 0}`;
      const pairs = [...new Set(ofRate.map(run))].map((r) => [ofRate.find((x) => run(x) === r && x.label === a), ofRate.find((x) => run(x) === r && x.label === b)]).filter(([x, y]) => x && y);
      const at = (key) => spread(pairs.map(([x, y]) => x[key] / y[key]), (v) => fixed(v, 2)).text;
      lines.push(row(text, '', '', '', '', `**${at('p50')}**`, `**${at('p99')}**`));
    };
    ratio(shared, bare, 'ratio ssemux (shared-worker) / bare sharer');
    ratio(leader, bare, 'ratio ssemux (leader) / bare sharer');
    ratio(leader, shared, 'ratio ssemux leader / shared-worker');
    ratio(shared, bareFetch, 'ratio ssemux (shared-worker) / bare sharer over fetch');
    ratio(bareFetch, bare, 'ratio bare sharer over fetch / bare sharer');
    // Each variant (BENCH_VARIANTS) against dist/ in the same mode, and against the floor.
    for (const label of labels.filter((l) => l.startsWith('ssemux['))) {
      const name = label.slice(0, label.indexOf(']') + 1);
      const mode = leaderRow(label) ? 'leader' : 'shared-worker';
      ratio(label, mode === 'leader' ? leader : shared, `ratio ${name} / ssemux, ${mode}`);
      ratio(label, bare, `ratio ${name} (${mode}) / bare sharer`);
    }
  }
  return lines;
}

function topics({ results, topics, tabs, count, rate, seconds }) {
  return [deliveryHead(`4. Topics: ${topics} topics, ${tabs} tabs × 5 topics each, ${int(count)} events (${rate}/s for ${seconds} s, POST /publish)`), ...results.map(deliveryRow)];
}

function server(s) {
  return [
    head(
      `5. Server: ${int(s.connections)} connections, Node ${s.node}; a burst of ${int(s.burst)} awaited publishes`,
      `p50 ms at ${s.rate}/s`,
      `p99 ms at ${s.rate}/s`,
      'longest block ms in the burst (server CPU ms)',
      'burst p99 ms',
      'deliveries/s in the burst',
      'events lost',
      'RSS KB / connection',
      'heap KB / connection',
      'CPU µs / reconnect',
    ),
    ...s.rows.map((x) =>
      row(
        x.kind === 'better-sse' ? 'better-sse' : `ssemux/server, ${x.kind.replace('-no-presence', ', no presence')}`,
        fixed(x.steady.p50, 2),
        fixed(x.steady.p99, 2),
        `${ms(x.burst.blocked.wall)} (${ms(x.burst.blocked.cpu)})`,
        ms(x.burst.p99),
        int(x.burst.perSecond),
        int(x.steady.lost + x.burst.lost),
        fixed(x.rssPerConnection),
        fixed(x.heapPerConnection),
        x.reconnectCpu === undefined ? '' : fixed(x.reconnectCpu * 1000, 0),
      ),
    ),
  ];
}

function parser(p) {
  return [
    head(`6. Parser: ${fixed(p.megabytes)} MB of SSE in 16 KiB chunks (best of 9); one long line in 100 B chunks (best of 5)`, 'MB/s', 'events', '1 MiB line ms', '2 MiB line ms', '4 MiB line ms'),
    ...Object.keys(p.throughput).map((name) => row(name, int(p.throughput[name]), int(p.events[name]), fixed(p.longLine[1][name]), fixed(p.longLine[2][name]), fixed(p.longLine[4][name]))),
  ];
}

/** Busy time by kind of work, the hub's side and a tab, ssemux against the bare sharer; then the top functions. */
function profiles({ tabs, rate, seconds, dir, targets, runs }) {
  const cell = (t, ms) => (ms ? `${fixed(ms, 0)} (${fixed((100 * ms) / t.busyMs, 0)}%)` : '-');
  const categories = [...new Set(targets.flatMap((t) => Object.keys(t.categories)))];
  const share = (category) => Math.max(...targets.map((t) => (t.categories[category] ?? 0) / t.busyMs));
  categories.sort((a, b) => share(b) - share(a));
  const lines = [
    head(`7. Profiles: ${tabs} tabs, ${int(rate)} events/s for ${seconds} s, V8 CPU profiles (100 µs sampling; files in ${dir}): busy ms (share of busy)`, ...targets.map((t) => t.label)),
    row('busy ms / profiled ms', ...targets.map((t) => `**${fixed(t.busyMs, 0)}** / ${fixed(t.totalMs, 0)}`)),
    row('the longest busy stretch, ms (its largest kind of work, ms)', ...targets.map((t) => `${fixed(t.longestBusy.ms, 1)} (${t.longestBusy.kind}: ${fixed(t.longestBusy.kindMs, 1)})`)),
    // The hub's side: the SharedWorker thread (the leader: its tab, the busiest); a tab: the mean of the tabs.
    row(
      'CPU ms the thread used (/proc): the SharedWorker thread, the busiest tab (leader), the mean tab',
      ...runs.flatMap((x) => (x.threads ? [fixed(1000 * (x.key === 'leader' ? x.threads.busiestTab : x.threads.worker), 0), fixed((1000 * x.threads.tabs) / x.tabs, 0)] : ['-', '-'])),
    ),
    ...categories.map((category) => row(category, ...targets.map((t) => cell(t, t.categories[category])))),
    row('under the profiler: p50 / p99 ms, delivered / expected', ...runs.flatMap((x) => {
      const text = `${ms(x.p50)} / ${ms(x.p99)}, ${int(x.delivered)} / ${int(x.expected)}${x.key === 'bare' || x.key.startsWith(x.sharing) ? '' : ` [sharing: ${x.sharing}]`}`;
      return [text, text];
    })),
  ];
  for (const t of targets) {
    lines.push(row(`top self time: ${t.label}`, t.functions.slice(0, 12).map((f) => `${f.name} ${fixed(f.selfMs, 0)}`).join('; ')));
  }
  return lines;
}

/** The first tab's milestones by kind (bench/parts/firsttab.mjs). */
function anatomy({ runs, kinds }) {
  const names = Object.keys(kinds);
  return [
    head(`8. The first tab of an origin, traced (returning visitor, no worker running): ms since navigation start, median of ${runs} first tabs each`, ...names),
    ...ANATOMY_STEPS.map(([key, label]) => row(label, ...names.map((name) => (Number.isFinite(kinds[name][key]) ? fixed(kinds[name][key]) : '-')))),
  ];
}
