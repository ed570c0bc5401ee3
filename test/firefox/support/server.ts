import { fileURLToPath } from 'node:url';
import { createDemoServer } from '../../../demo-server/server.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** The reference server the Playwright suite runs (test/e2e/fixtures.ts). */
export type DemoServer = Awaited<ReturnType<typeof createDemoServer>>;

/**
 * The demo server on a free port of 127.0.0.1 (a secure context, so Web Locks work), tuned for
 * tests as in test/e2e/fixtures.ts: fast heartbeats and retries.
 */
export function startServer(options: Parameters<typeof createDemoServer>[0] = {}): Promise<DemoServer> {
  return createDemoServer({ port: 0, heartbeatMs: 1000, retryMs: 200, staticDirs: STATIC_DIRS, ...options });
}

/** What {@link startServer} serves: dist/, this suite's pages and the Playwright suite's pages. */
export const STATIC_DIRS = [
  { prefix: '/dist', dir: `${root}/dist` },
  { prefix: '/', dir: `${root}/test/firefox/pages` },
  { prefix: '/', dir: `${root}/test/e2e/pages` },
];

/** The built worker script, as the server serves it. */
export const WORKER_FILE = `${root}/dist/ssemux-worker.js`;

/** Publishes one event (`{ stream | topic, type?, data?, user? }`) through the server's HTTP API; returns its id. */
export async function publishOne(server: { url: string }, event: { stream?: string; topic?: string; type?: string; data?: unknown; user?: string }): Promise<string> {
  const res = await fetch(`${server.url}/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
  return String(((await res.json()) as { id: string }).id);
}

/** Publishes `count` events `{ n: 1..count }` on `stream`, one after the other; returns their ids. */
export async function publish(server: { url: string }, stream: string, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let n = 1; n <= count; n++) out.push(await publishOne(server, { stream, data: { n } }));
  return out;
}

/** What the server sees: open streams, per stream too, and how many requests it answered with a stream. */
export async function stats(server: { url: string }): Promise<{ openStreams: number; connections: number; perStream: Record<string, { open: number }> }> {
  return (await fetch(`${server.url}/stats`)).json() as never;
}

/** Every request path the server received, in order, from now on: what the browser downloaded. */
export function recordRequests(server: DemoServer): string[] {
  const paths: string[] = [];
  // Ahead of Express, which rewrites the URL of a request it routes to a mounted static dir.
  server.server.prependListener('request', (req) => paths.push(new URL(req.url ?? '/', server.url).pathname));
  return paths;
}

/** Logs `user` in on a server started with `auth: true`; every call mints a fresh token. */
export async function login(server: { url: string }, user: string): Promise<string> {
  const res = await fetch(`${server.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) });
  return ((await res.json()) as { token: string }).token;
}
