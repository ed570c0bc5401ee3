import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { createDemoServer } from '../../demo-server/server.js';

// The reference server as the browser suites run it, and what they ask of it over HTTP.

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The reference server (demo-server/), tuned for tests: fast heartbeats and retries. */
export type DemoServer = Awaited<ReturnType<typeof createDemoServer>>;

/** What {@link startServer} serves: dist/, the test pages, and Firefox's killable worker. */
export const STATIC_DIRS = [
  { prefix: '/dist', dir: `${root}/dist` },
  { prefix: '/', dir: `${root}/test/e2e/pages` },
  { prefix: '/', dir: `${root}/test/firefox/pages` },
];

/** The built worker script, as the server serves it at /dist/ssemux-worker.js. */
export const WORKER_FILE = `${root}/dist/ssemux-worker.js`;

/**
 * The demo server on a free port of 127.0.0.1 (a secure context, so Web Locks work), with a
 * heartbeat every second and `retry: 200`.
 */
export function startServer(options: Parameters<typeof createDemoServer>[0] = {}): Promise<DemoServer> {
  return createDemoServer({ port: 0, heartbeatMs: 1000, retryMs: 200, staticDirs: STATIC_DIRS, ...options });
}

/** POSTs `body` as JSON to `path` of `server` (publishing, faults, logins) and fails on an error status. */
export async function postJson<T = unknown>(server: { url: string }, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (res.headers.get('content-type')?.includes('json') ? res.json() : undefined) as Promise<T>;
}

/** Publishes one event (`{ stream | topic, type?, data?, user? }`) through the server's HTTP API; returns its id. */
export async function publishOne(server: { url: string }, event: { stream?: string; topic?: string; type?: string; data?: unknown; user?: string }): Promise<string> {
  return String((await postJson<{ id: string | number }>(server, '/publish', event)).id);
}

/** Publishes `count` events `{ n: 1..count }` of `type` on `stream`, one after the other; returns their ids. */
export async function publish(server: { url: string }, stream: string, count: number, type = 'message'): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 1; n <= count; n++) ids.push(await publishOne(server, { stream, type, data: { n } }));
  return ids;
}

/** What the server sees: open streams (per stream too), stream requests answered, /events requests ever. */
export interface ServerStats {
  openStreams: number;
  connections: number;
  requests: number;
  latestId: string;
  perStream: Record<string, { open: number }>;
}

export async function stats(server: { url: string }): Promise<ServerStats> {
  return (await fetch(`${server.url}/stats`)).json() as Promise<ServerStats>;
}

/** Logs `user` in on a server started with `auth: true`; every call mints a fresh token. */
export async function login(server: { url: string }, user: string): Promise<string> {
  return (await postJson<{ token: string }>(server, '/login', { user })).token;
}

/** One request as the server received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  /** The page or worker script that sent it: a worker's requests name its script. */
  referer: string | undefined;
  /** Its `Last-Event-ID` header, if it sent one. */
  lastEventId: string | undefined;
  /** A POST /events's body, complete once the request has ended. */
  body: string;
}

/**
 * Every request the server receives from now on, in order: what the browser downloaded, and from
 * where. Read on the server, so it is the same for every engine (a SharedWorker's requests belong
 * to no tab a driver could watch).
 */
export function recordRequests(server: DemoServer): RecordedRequest[] {
  const requests: RecordedRequest[] = [];
  // Ahead of Express, which rewrites the URL of a request it routes to a mounted static dir.
  server.server.prependListener('request', (req) => {
    const entry: RecordedRequest = {
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', server.url).pathname,
      contentType: req.headers['content-type'],
      referer: req.headers.referer,
      lastEventId: req.headers['last-event-id'] as string | undefined,
      body: '',
    };
    requests.push(entry);
    // The stream endpoint's bodies only (the handler reads them as they come, or not at all).
    if (entry.method === 'POST' && entry.path === '/events') req.on('data', (chunk: Buffer) => (entry.body += chunk.toString()));
  });
  return requests;
}

/** One run of a listener, as its page reported it (harness.html's `listen` with `report`). */
export interface ReportedRun {
  /** The name the test gave the tab. */
  tab: string;
  /** The event's id. */
  id: string;
}

/**
 * Answers `POST /record?tab=<name>&id=<event id>` on `server` and returns every run reported so
 * far, in the order they arrived. Kept on the server, outside every tab: what ran in a tab that
 * then closed or crashed is still counted, as far as the page got the request out. The route is
 * served ahead of the app, so `recordRequests` started before this does not see it.
 */
export function recordRuns(server: DemoServer): ReportedRun[] {
  const runs: ReportedRun[] = [];
  interceptRequests(server, (req, res, app) => {
    const url = new URL(req.url ?? '/', server.url);
    if (req.method !== 'POST' || url.pathname !== '/record') return app();
    runs.push({ tab: url.searchParams.get('tab') ?? '', id: url.searchParams.get('id') ?? '' });
    res.writeHead(204).end();
  });
  return runs;
}

/**
 * Puts `intercept` ahead of the server's own handling of every request: it answers a request
 * itself, or hands it on (`app()`, now or later). Listeners prepended later (`recordRequests`) see
 * each request as it arrives, held or not.
 */
function interceptRequests(server: DemoServer, intercept: (req: IncomingMessage, res: ServerResponse, app: () => void) => void): void {
  const app = server.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.server.removeAllListeners('request');
  server.server.on('request', (req: IncomingMessage, res: ServerResponse) =>
    intercept(req, res, () => {
      for (const listener of app) listener.call(server.server, req, res);
    }),
  );
}

/**
 * Holds every request for `path` on `server` (a script the browser loads, say) unanswered until
 * `release()`: the browser meets a slow network or a slow server at that one place.
 */
export function holdRequests(server: DemoServer, path: string): { release(): void } {
  let released = false;
  const held: (() => void)[] = [];
  interceptRequests(server, (req, _res, app) => {
    if (released || new URL(req.url ?? '/', server.url).pathname !== path) app();
    else held.push(app);
  });
  return {
    release() {
      released = true;
      held.splice(0).forEach((app) => app());
    },
  };
}

/** How the runs of `sent` went: events run more than once (and how many runs too many), events never run, runs per tab. */
export function tallyRuns(runs: readonly ReportedRun[], sent: readonly string[]): { ranTwice: number; extraRuns: number; lost: number; perTab: Record<string, number> } {
  const times = new Map<string, number>(sent.map((id) => [id, 0]));
  const perTab: Record<string, number> = {};
  for (const { tab, id } of runs) {
    times.set(id, (times.get(id) ?? 0) + 1);
    perTab[tab] = (perTab[tab] ?? 0) + 1;
  }
  let ranTwice = 0;
  let extraRuns = 0;
  let lost = 0;
  for (const n of times.values()) {
    if (n === 0) lost++;
    if (n > 1) ranTwice++;
    extraRuns += Math.max(0, n - 1);
  }
  return { ranTwice, extraRuns, lost, perTab };
}
