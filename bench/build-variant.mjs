// Builds a variant of ssemux for the bench to measure beside the working tree's dist/: the
// working tree's sources with patches applied, built in a temporary copy (the working tree and
// its dist/ stay as they are).
//
//   node bench/build-variant.mjs <out-dir> [change.patch …]
//
// writes the variant's dist/ to <out-dir>; with no patch, a copy of the working tree's own build.
// Then `BENCH_VARIANTS=<name>=<out-dir>,… npm run bench` adds its rows (bench/lib/variants.mjs).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [outArg, ...patches] = process.argv.slice(2);
if (!outArg) {
  console.error('usage: node bench/build-variant.mjs <out-dir> [change.patch …]');
  process.exit(2);
}
const out = resolve(outArg);
/** What `node scripts/build.mjs lib` reads. */
const SOURCES = ['src', 'worker', 'scripts', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'vite.config.ts'];

const tmp = mkdtempSync(`${os.tmpdir()}/ssemux-variant-`);
const run = (command, args, options = {}) => {
  const result = spawnSync(command, args, { cwd: tmp, stdio: ['ignore', 2, 2], ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit code ${result.status}`);
};
try {
  for (const entry of SOURCES) if (existsSync(`${root}/${entry}`)) cpSync(`${root}/${entry}`, `${tmp}/${entry}`, { recursive: true });
  symlinkSync(`${root}/node_modules`, `${tmp}/node_modules`);
  for (const patch of patches) {
    console.error(`applying ${patch}`);
    run('git', ['apply', '--whitespace=nowarn', resolve(patch)]);
  }
  run(process.execPath, ['scripts/build.mjs', 'lib']);
  rmSync(out, { recursive: true, force: true });
  cpSync(`${tmp}/dist`, out, { recursive: true });
  console.error(`built ${out}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
