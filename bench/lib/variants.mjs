// Other builds of ssemux measured beside dist/ in the same run: `BENCH_VARIANTS=name=dir,…`,
// each dir a dist/ directory (bench/build-variant.mjs makes one from patches). The fan-out and the
// new-tab parts add an ssemux row per variant; each variant's page is ssemux.html with its own
// /dist/ (served at /variant/<name>/), so its worker is a SharedWorker of its own URL.
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';

/**
 * Reads BENCH_VARIANTS and lays out each variant's page in a temporary directory.
 * @returns {{ variants: { name: string, dir: string, page: string }[], staticDirs: { prefix: string, dir: string }[], close(): void }}
 *   `page`: the variant's ssemux.html, relative to the server's root.
 */
export function prepareVariants(root, spec = process.env.BENCH_VARIANTS) {
  const entries = (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return { variants: [], staticDirs: [], close() {} };
  const tmp = mkdtempSync(`${os.tmpdir()}/ssemux-bench-variants-`);
  const html = readFileSync(`${root}/bench/ssemux.html`, 'utf8');
  const variants = entries.map((entry) => {
    const [name, dir] = entry.split('=');
    if (!name || !/^[\w-]+$/.test(name) || !dir) throw new Error(`BENCH_VARIANTS: "${entry}" is not name=dist-directory`);
    const dist = resolve(dir);
    if (!existsSync(`${dist}/ssemux.js`)) throw new Error(`BENCH_VARIANTS: ${dist} has no ssemux.js`);
    mkdirSync(`${tmp}/${name}`);
    symlinkSync(dist, `${tmp}/${name}/dist`);
    writeFileSync(`${tmp}/${name}/ssemux.html`, html.replaceAll("'/dist/", `'/variant/${name}/dist/`).replaceAll('"/dist/', `"/variant/${name}/dist/`));
    return { name, dir: dist, page: `variant/${name}/ssemux.html` };
  });
  return {
    variants,
    staticDirs: variants.map((v) => ({ prefix: `/variant/${v.name}`, dir: `${tmp}/${v.name}` })),
    close: () => rmSync(tmp, { recursive: true, force: true }),
  };
}
