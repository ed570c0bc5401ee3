import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The multi-tab end-to-end suite in Debian's Firefox ESR, driven over WebDriver BiDi by
// puppeteer-core (test/firefox/README.md). It reads dist/, so build first (npm test does).
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  resolve: {
    // The demo server imports the package by name, as an app would; the tests run it from source.
    alias: [{ find: /^ssemux\/server$/, replacement: fileURLToPath(new URL('../../src/server/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/firefox/**/*.spec.ts'],
    environment: 'node',
    // One Firefox at a time: the machine has two cores, and each file starts its own browser.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // As the Playwright suite's expect timeout: conditions are polled until this deadline.
    expect: { poll: { timeout: 15_000, interval: 50 } },
  },
});
