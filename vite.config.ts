import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Vitest runs the unit tests here; the library build lives in scripts/build.mjs because it
// produces several differently shaped bundles.
export default defineConfig({
  define: { __SSEMUX_VERSION__: JSON.stringify('0.0.0-test'), __SSEMUX_XHR__: 'true' },
  resolve: {
    // The demo server imports the package by name, as an app would; tests run it from source.
    alias: [{ find: /^ssemux\/server$/, replacement: fileURLToPath(new URL('./src/server/index.ts', import.meta.url)) }],
  },
  test: {
    include: [
      'test/unit/**/*.test.{ts,tsx}',
      'test/conformance/**/*.test.ts',
      // Against a server of your own: SSEMUX_CONFORMANCE_URL=… (see test/conformance/README.md).
      ...(process.env.SSEMUX_CONFORMANCE_URL ? ['test/conformance/remote.conformance.ts'] : []),
    ],
    environment: 'node',
    testTimeout: 20_000,
  },
});
