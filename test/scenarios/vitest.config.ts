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
    // Two files at a time, each with a browser of its own: a scenario mostly waits (on the server,
    // on timers, on conditions), so two halve an engine's time on a 2-core machine (WebKit: 232 s
    // one at a time, 115 s two at a time, at a load average of 10-15); the bounds that are timed
    // were measured under that load.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // As the Playwright suite's expect timeout: conditions are polled until this deadline.
    expect: { poll: { timeout: 15_000, interval: 50 } },
  },
});
