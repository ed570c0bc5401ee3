import { defineConfig } from 'vitest/config';

// Vitest runs the unit tests here; the library build lives in scripts/build.mjs because it
// produces three differently shaped bundles.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
