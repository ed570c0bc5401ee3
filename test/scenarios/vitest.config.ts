import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { ENGINES } from './engine.js';

// The multi-tab scenarios (test/scenarios/README.md), once per engine: a project each, which
// `--project <engine>` picks. They read dist/, so build first (npm test does).
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  resolve: {
    // The demo server imports the package by name, as an app would; the tests run it from source.
    alias: [{ find: /^ssemux\/server$/, replacement: fileURLToPath(new URL('../../src/server/index.ts', import.meta.url)) }],
  },
  test: {
    projects: ENGINES.map((engine) => ({
      extends: true,
      test: { name: engine, include: ['test/scenarios/**/*.spec.ts'], provide: { engine } },
    })),
    environment: 'node',
    // One browser at a time: the machine has two cores, and each file starts its own.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // As the Playwright suite's expect timeout: conditions are polled until this deadline.
    expect: { poll: { timeout: 15_000, interval: 50 } },
  },
});
