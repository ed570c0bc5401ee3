import { defineConfig } from '@playwright/test';
import { chromiumPath, chromiumArgs } from './test/support/chromium.js';

// Real Chromium (Debian's, see test/support/chromium.js) against the real demo server, which
// each test file starts on a free port of 127.0.0.1.
export default defineConfig({
  testDir: 'test/e2e',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  workers: 2,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  outputDir: 'test-results/artifacts',
  use: {
    headless: true,
    launchOptions: { executablePath: chromiumPath(), args: chromiumArgs },
  },
});
