// Builds the library (dist/ssemux.js, ESM, with the XHR polyfill as its own chunk), the worker
// (dist/ssemux-worker.js, one IIFE with no import or export, so it loads as a classic or a
// module worker), the React binding, the Node server (dist/ssemux-server.js), the type
// declarations and the demo page. `node scripts/build.mjs server` builds only the Node server.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';
import { dts } from 'rolldown-plugin-dts';
import { build } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv[2]; // 'lib' skips the demo, for quick rebuilds; 'server': ssemux/server only

// ---- ssemux/server: a Node bundle, kept apart from the browser bundles below ----------------
// An SSR build, so that node: built-ins stay real imports (a browser build would stub them).
// ioredis stays external: an optional peer dependency, imported only by redisStore().
const buildServer = () =>
  build({
    root,
    configFile: false,
    logLevel: 'warn',
    publicDir: false,
    build: {
      ssr: 'src/server/index.ts',
      outDir: 'dist',
      emptyOutDir: false,
      target: 'node20',
      minify: false,
      sourcemap: true,
      rollupOptions: { external: [/^node:/, 'ioredis'], output: { format: 'es', entryFileNames: 'ssemux-server.js' } },
    },
  });
if (only === 'server') {
  await buildServer();
  console.log('built dist/ssemux-server.js');
  process.exit(0);
}
// ----------------------------------------------------------------------------------------------

rmSync(`${root}/dist`, { recursive: true, force: true });

const { version } = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
// The release names the worker, locks and channels (src/protocol/messages.ts), so releases never mix.
const common = { root, configFile: false, logLevel: 'warn', publicDir: false, define: { __SSEMUX_VERSION__: JSON.stringify(version) } };

/**
 * Every browser bundle is minified twice, whitespace and all (Vite's library build keeps the
 * whitespace of ES output): by Rolldown, then by Terser in two passes, 3% smaller than either
 * alone. .size-limit.json holds the budgets, which `npm test` checks.
 */
/**
 * Constants (src/protocol/limits.ts) are written into the code that reads them, also across
 * chunks: otherwise a constant the entry and a lazy chunk both read is exported by the entry.
 */
const inlineConstants = { inlineConst: { mode: 'all', pass: 2 } };
const minify = { minify: 'terser', terserOptions: { toplevel: true, compress: { passes: 2 }, format: { comments: false } } };

/** One ES bundle into dist/. */
const bundle = (lib, rollupOptions = {}, plugins = []) =>
  build({
    ...common,
    plugins,
    build: {
      outDir: 'dist',
      emptyOutDir: false,
      target: 'es2020',
      sourcemap: true,
      lib,
      ...minify,
      rollupOptions: { ...rollupOptions, optimization: inlineConstants, output: { minify: true, comments: false, ...rollupOptions.output } },
    },
  });

// The lazy chunks (the leader and local links with the hub and the engine, the credentials, the
// worker failure report, the XHR transport) import what they share with the entry from the entry,
// which a page has already loaded: no common chunk, so no extra request on the common path
// ('allow-extension' lets the entry export them).
await bundle(
  { entry: 'src/index.ts', formats: ['es'], fileName: () => 'ssemux.js' },
  { preserveEntrySignatures: 'allow-extension', output: { chunkFileNames: 'chunks/[name]-[hash].js' } },
);
// One classic script (IIFE output has no code splitting): without the XHR transport (see
// src/engine/transports/select-transport.ts). Its source map ships next to it without a
// `sourceMappingURL` line: bundlers copy the worker alone as an asset (`new URL('ssemux/worker',
// import.meta.url)`), and the line would only make DevTools report a map it cannot load.
await build({
  ...common,
  define: { ...common.define, __SSEMUX_XHR__: 'false' },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2020',
    sourcemap: 'hidden',
    lib: { entry: 'worker/shared-worker.ts', formats: ['iife'], name: 'ssemuxWorker', fileName: () => 'ssemux-worker.js' },
    ...minify,
    rollupOptions: { optimization: inlineConstants, output: { minify: true, comments: false } },
  },
});
await bundle(
  { entry: 'src/react/index.ts', formats: ['es'], fileName: () => 'ssemux-react.js' },
  { external: ['react', 'react/jsx-runtime'] },
);
// ssemux/eventsource imports the public entry, which stays an import of ./ssemux.js: an app that
// uses both loads the client once.
await bundle(
  { entry: 'src/eventsource/index.ts', formats: ['es'], fileName: () => 'ssemux-eventsource.js' },
  {},
  [
    {
      name: 'ssemux-entry-external',
      enforce: 'pre',
      resolveId: (source, importer) =>
        importer && source.startsWith('.') && resolve(dirname(importer), source).replace(/\.js$/, '.ts') === resolve(root, 'src/index.ts')
          ? { id: './ssemux.js', external: true }
          : null,
    },
  ],
);

await buildServer();

// The public declarations, one file per entry point (and a shared one), with declaration maps into
// src/ (which the package ships for them): no declaration of an internal module is published.
const entries = { index: 'src/index.ts', react: 'src/react/index.ts', server: 'src/server/index.ts', eventsource: 'src/eventsource/index.ts' };
const types = await rolldown({
  cwd: root,
  input: Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(`${root}/${file}`))),
  plugins: [dts({ tsconfig: 'tsconfig.build.json', emitDtsOnly: true, sourcemap: true })],
  external: [/^node:/, 'react', 'react/jsx-runtime', 'ioredis'],
});
await types.write({ dir: `${root}/dist/types`, format: 'es', sourcemap: true, chunkFileNames: '[name]-[hash].d.ts' });
await types.close();
// `ssemux/worker` is a script, not a module with exports: `import 'ssemux/worker'` in a worker of
// the app's own, or a URL to it, is all there is to type.
writeFileSync(`${root}/dist/types/worker.d.ts`, '/** The SharedWorker script (see the README): it exports nothing. */\nexport {};\n');

if (only !== 'lib') {
  // The dashboard imports the library as an app would ('ssemux', 'ssemux/react'), from source.
  await build({
    ...common,
    root: `${root}/demo`,
    base: '/',
    resolve: {
      alias: [
        { find: /^ssemux$/, replacement: `${root}/src/index.ts` },
        { find: /^ssemux\/react$/, replacement: `${root}/src/react/index.ts` },
      ],
    },
    oxc: { jsx: { runtime: 'automatic' } },
    build: { outDir: `${root}/demo-dist`, emptyOutDir: true, target: 'es2020', sourcemap: true },
  });
}
console.log('built dist/ and demo-dist/');
