// The one Markdown table of `npm run bench`. Its parts measure different things, so the table
// has generic columns and each part opens with a bold row that names them for its rows.
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
  ];
  for (const [name, result, render] of parts) {
    if (!result) lines.push(row(`_${name}: skipped_`));
    else if (result.error) lines.push(row(`**${name}**`, `failed: ${result.error}`));
    else lines.push(...render(result));
  }
  return lines.join('\n');
}

function size({ files, others, bundles, sharing }) {
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
  return lines;
}

function newTab({ ssemux, plain, bare, firstTab }) {
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
    ...Object.entries(firstTab).flatMap(([visit, { ssemux: s, plain: p, bare: b }]) => {
      const when = visit === 'empty' ? 'a first visit: empty HTTP cache' : 'a returning visitor: warm cache, no worker running';
      return [
        line(`the first tab of the origin, ssemux: its worker starts (${when}; median of ${s.n})`, s),
        line(`the first tab of the origin, plain EventSource (${when}; median of ${p.n})`, p),
        line(`the first tab of the origin, the bare sharer: its worker starts (${when}; median of ${b.n})`, b),
        row(`ratio ssemux / EventSource, first tab, ${visit === 'empty' ? 'first visit' : 'returning visitor'} (first event)`, `${fixed(s.median / p.median, 2)} (bare sharer ${fixed(b.median / p.median, 2)})`),
      ];
    }),
  ];
}

// Fan-out and topics share their columns.
const deliveryHead = (title) => head(title, 'tabs connected', 'upstreams open (+ new)', 'delivered / expected', 'out of order', 'p50 ms', 'p99 ms', 'browser CPU s', 'Node CPU s');
function deliveryRow(x) {
  // An ssemux row that did not run in the sharing mode it is about says so.
  const expectedMode = x.label.includes('leader') ? 'leader' : 'shared-worker';
  const mode = x.label.startsWith('ssemux') && x.sharing !== expectedMode ? ` [sharing: ${x.sharing || '?'}]` : '';
  return row(
    `${x.label}${mode}${x.cut ? ` (${x.cut})` : ''}`,
    `${x.connected} / ${x.tabs}${x.loaded < x.tabs ? ` (${x.tabs - x.loaded} never loaded)` : ''}${x.notOpen ? ` (${x.notOpen})` : ''}`,
    `${x.upstreams}${x.newConnections ? ` (+${x.newConnections})` : ''}`,
    `${int(x.delivered)} / ${int(x.expected)}`,
    int(x.outOfOrder),
    ms(x.p50),
    ms(x.p99),
    fixed(x.cpuBrowser),
    fixed(x.cpuNode),
  );
}

function fanOut({ results, tabs, seconds }) {
  const lines = [];
  for (const rate of new Set(results.map((x) => x.rate))) {
    lines.push(deliveryHead(`3. Fan-out: ${tabs} tabs, ${int(rate)} events/s for ${seconds} s (POST /publish/burst)`));
    for (const x of results.filter((y) => y.rate === rate)) lines.push(deliveryRow(x));
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
    ),
    ...s.rows.map((x) =>
      row(
        x.kind === 'better-sse' ? 'better-sse' : `ssemux/server, ${x.kind}`,
        fixed(x.steady.p50, 2),
        fixed(x.steady.p99, 2),
        `${ms(x.burst.blocked.wall)} (${ms(x.burst.blocked.cpu)})`,
        ms(x.burst.p99),
        int(x.burst.perSecond),
        int(x.steady.lost + x.burst.lost),
        fixed(x.rssPerConnection),
        fixed(x.heapPerConnection),
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
