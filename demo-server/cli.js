#!/usr/bin/env node
// @ts-check
/**
 * Run the demo server: `PORT=8080 node demo-server/cli.js`. Serves the built demo page from
 * demo-dist/ and the built library from dist/ (either may be missing); needs `npm run build`
 * first, since it imports ssemux/server as an app would.
 *
 * - `PORT`: the port (8080).
 * - `REDIS_URL`: keep the log in Redis (redisStore), shared by every instance given the same URL.
 * - `PUBLISH_KEY`: `POST /publish` needs `Authorization: Bearer <PUBLISH_KEY>`.
 * - `DEMO_FEEDS=0`: no tick/notification/stats feeds (several instances would each run them).
 */
import { fileURLToPath } from 'node:url';
import { redisStore } from 'ssemux/server';
import { createDemoServer } from './server.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const store = process.env.REDIS_URL ? redisStore({ url: process.env.REDIS_URL }) : undefined;

// PORT=0 asks for a free port, as createDemoServer's port 0 does; unset or empty is 8080.
const port = process.env.PORT ? Number(process.env.PORT) : 8080;
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a port number (0 for a free one), not ${process.env.PORT}`);
  process.exit(1);
}

const demo = await createDemoServer({
  port,
  demo: process.env.DEMO_FEEDS !== '0',
  auth: false,
  store,
  publishKey: process.env.PUBLISH_KEY || undefined,
  staticDirs: [
    { prefix: '/', dir: `${repo}demo-dist` },
    { prefix: '/dist', dir: `${repo}dist` },
  ],
});
console.log(`ssemux demo server on http://localhost:${demo.port}${store ? ' (events in Redis)' : ''}`);

/** @param {NodeJS.Signals} signal */
const shutdown = (signal) => {
  console.log(`${signal}: closing`);
  demo
    .close()
    .then(() => store?.close())
    .then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
