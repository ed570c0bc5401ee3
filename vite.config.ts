import { defineConfig } from 'vitest/config';

// Vitest runs the unit tests here; the library build lives in scripts/build.mjs because it
// produces three differently shaped bundles.
export default defineConfig({
  define: { __SSEMUX_VERSION__: JSON.stringify('0.0.0-test') },
  test: {
    include: ['test/unit/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
