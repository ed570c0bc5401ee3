#!/usr/bin/env node
// @ts-check
/**
 * Run the demo server: `PORT=8080 node demo-server/cli.js`. Serves the built demo page from
 * demo-dist/ and the built library from dist/ (either may be missing).
 */
import { fileURLToPath } from 'node:url';
import { createDemoServer } from './server.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

const demo = await createDemoServer({
  port: Number(process.env.PORT) || 8080,
  demo: true,
  auth: false,
  staticDirs: [
    { prefix: '/', dir: `${repo}demo-dist` },
    { prefix: '/dist', dir: `${repo}dist` },
  ],
});
console.log(`ssemux demo server on http://localhost:${demo.port}`);

/** @param {NodeJS.Signals} signal */
const shutdown = (signal) => {
  console.log(`${signal}: closing`);
  demo.close().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
