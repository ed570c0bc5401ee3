// Parser throughput and long-line scaling, ours vs eventsource-parser: `node bench/parser-bench.mjs`.
// Node 20 cannot run TypeScript, so src/engine/parser.ts is bundled in memory with rolldown
// (shipped with vite) and imported from a data: URL. `--json`: one JSON line instead of the text
// (scripts/bench.mjs puts the figures in its table).
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';
import { createParser as createTheirs } from 'eventsource-parser';

const bundle = await rolldown({ input: fileURLToPath(new URL('../src/engine/parser.ts', import.meta.url)), logLevel: 'silent' });
const { output } = await bundle.generate({ format: 'esm' });
const { createParser: createOurs } = await import(`data:text/javascript,${encodeURIComponent(output[0].code)}`);

const parsers = {
  ssemux: (onEvent) => createOurs({ onEvent }),
  'eventsource-parser': (onEvent) => createTheirs({ onEvent }),
};

/** ~50 MB of realistic SSE: ids, types, JSON data (sometimes on two lines), heartbeats. */
function realisticStream(targetChars) {
  const parts = [];
  let size = 0;
  for (let i = 0; size < targetChars; i++) {
    const json = JSON.stringify({ id: i, user: `user-${i % 977}`, text: 'lorem ipsum dolor sit amet '.repeat(1 + (i % 7)), at: 1_700_000_000_000 + i });
    let block = `id: ${i}\nevent: ${i % 3 ? 'message' : 'notification'}\ndata: ${json}\n`;
    if (i % 5 === 0) block += `data: ${json}\n`;
    if (i % 20 === 0) block += ': heartbeat\n';
    parts.push((block += '\n'));
    size += block.length;
  }
  return parts.join('');
}

/** `size`-byte chunks decoded as the transports do (flat strings, unlike slices of `text`). */
function chunked(text, size) {
  const bytes = new TextEncoder().encode(text);
  const decoder = new TextDecoder();
  const chunks = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(decoder.decode(bytes.subarray(i, i + size), { stream: true }));
  return chunks;
}

/** Best wall time (ms) per parser over `runs` rounds, the parsers taking turns so neither gets the warmer heap. */
function race(chunks, runs) {
  const best = {};
  const events = {};
  for (let r = 0; r < runs; r++) {
    for (const [name, create] of Object.entries(parsers)) {
      let count = 0;
      const parser = create(() => count++);
      const t0 = performance.now();
      for (const chunk of chunks) parser.feed(chunk);
      best[name] = Math.min(best[name] ?? Infinity, performance.now() - t0);
      events[name] = count;
    }
  }
  return { best, events };
}

const json = process.argv.includes('--json');
const text = realisticStream(50e6);
const { best, events } = race(chunked(text, 16 * 1024), 9);
const result = { megabytes: text.length / 1e6, throughput: {}, events, longLine: {} };
for (const name of Object.keys(parsers)) result.throughput[name] = text.length / 1e3 / best[name];
if (!json) {
  console.log(`Throughput: ${(text.length / 1e6).toFixed(1)} MB of SSE in 16 KiB chunks, best of 9`);
  for (const name of Object.keys(parsers)) {
    console.log(`  ${name.padEnd(20)} ${result.throughput[name].toFixed(0).padStart(5)} MB/s  (${events[name]} events)`);
  }
  console.log('One long data line fed in 100-byte chunks, best of 5 (ms)');
}
for (const mib of [1, 2, 4]) {
  const { best, events } = race(chunked(`data: ${'x'.repeat(mib * 1024 * 1024)}\n\n`, 100), 5);
  for (const [name, count] of Object.entries(events)) if (count !== 1) throw new Error(`${name} fired ${count} events`);
  result.longLine[mib] = best;
  if (!json) console.log(`  ${mib} MiB: ${Object.entries(best).map(([name, ms]) => `${name} ${ms.toFixed(1).padStart(5)}`).join('   ')}`);
}
if (json) console.log(JSON.stringify(result));
