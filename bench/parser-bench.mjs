// Parser throughput and long-line scaling, ours vs eventsource-parser: `node bench/parser-bench.mjs`.
// Node 20 cannot run TypeScript, so src/engine/parser.ts is bundled in memory with rolldown
// (shipped with vite) and imported from a data: URL.
import { rolldown } from 'rolldown';
import { createParser as createTheirs } from 'eventsource-parser';

const bundle = await rolldown({ input: new URL('../src/engine/parser.ts', import.meta.url).pathname, logLevel: 'silent' });
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

function chunked(text, size) {
  const chunks = [];
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
  return chunks;
}

/** Best wall time of `runs` full parses; also returns the event count as a sanity check. */
function best(create, chunks, runs) {
  let ms = Infinity;
  let events = 0;
  for (let r = 0; r < runs; r++) {
    let count = 0;
    const parser = create(() => count++);
    const t0 = performance.now();
    for (const chunk of chunks) parser.feed(chunk);
    ms = Math.min(ms, performance.now() - t0);
    events = count;
  }
  return { ms, events };
}

const text = realisticStream(50e6);
const chunks = chunked(text, 16 * 1024);
console.log(`Throughput: ${(text.length / 1e6).toFixed(1)} MB of SSE in 16 KiB chunks, best of 7`);
for (const [name, create] of Object.entries(parsers)) {
  const { ms, events } = best(create, chunks, 7);
  console.log(`  ${name.padEnd(20)} ${((text.length / 1e6 / ms) * 1000).toFixed(0).padStart(5)} MB/s  (${events} events)`);
}

console.log('One long data line fed in 100-byte chunks, best of 3 (ms)');
for (const mib of [1, 2, 4]) {
  const line = `data: ${'x'.repeat(mib * 1024 * 1024)}\n\n`;
  const lineChunks = chunked(line, 100);
  const row = Object.entries(parsers).map(([name, create]) => {
    const { ms, events } = best(create, lineChunks, 3);
    if (events !== 1) throw new Error(`${name} fired ${events} events`);
    return `${name} ${ms.toFixed(1).padStart(7)}`;
  });
  console.log(`  ${mib} MiB: ${row.join('   ')}`);
}
