// Every status ssemux/server answers, met by the browser client's own engine (createConnection,
// which runs in Node over fetch): the client does what the README's status table says, with
// real requests and real timers.
import { afterEach, describe, expect, it } from 'vitest';
import { AuthenticationError, createRealtimeServer, type RealtimeServerOptions } from 'ssemux/server';
import { createConnection, type Connection } from '../../../src/engine/connection.js';
import { createConnectionScope } from '../../../src/engine/connection-scope.js';
import type { ConnectionStatus } from '../../../src/protocol/stream.js';
import type { WireEvent } from '../../../src/protocol/types.js';
import { sleep } from '../../conformance/sse-client.js';
import { eventually, listen, onCleanup } from './helpers.js';

const connections: Connection[] = [];
afterEach(() => {
  for (const connection of connections.splice(0)) connection.close();
});

/** A realtime server whose requests are counted (with the time each arrived). */
async function countedServer(options: RealtimeServerOptions<string>) {
  const realtime = createRealtimeServer<string>({ heartbeatMs: 5_000, onError: () => {}, ...options });
  onCleanup(() => realtime.close());
  const arrivals: number[] = [];
  const { url } = await listen((req, res) => {
    arrivals.push(Date.now());
    void realtime.handler(req, res);
  });
  return { url: `${url}/events`, realtime, arrivals };
}

/** The client engine on `url`, with a short backoff so that retries show within a test. */
function client(url: string, options: { headers?: () => Record<string, string>; body?: string; initialMs?: number } = {}) {
  const statuses: ConnectionStatus[] = [];
  const events: WireEvent[] = [];
  let headerCalls = 0;
  const connection = createConnection({
    url,
    transport: 'fetch',
    withCredentials: false,
    method: options.body === undefined ? 'GET' : 'POST',
    ...(options.body !== undefined ? { body: options.body } : {}),
    backoff: { initialMs: options.initialMs ?? 100, maxMs: 4 * (options.initialMs ?? 100), factor: 2 },
    heartbeatTimeoutMs: 30_000,
    maxEventSize: 1024 * 1024,
    maxConnections: 6,
    headers: () => {
      headerCalls++;
      return options.headers?.() ?? {};
    },
    customHeaders: true,
    lastEventId: '',
    prelude: true,
    onEvent: (event) => events.push(event),
    onStatus: (status) => statuses.push(status),
    random: () => 1,
    onlineTarget: new EventTarget(),
    scope: createConnectionScope(),
  });
  connections.push(connection);
  return {
    connection,
    statuses,
    events,
    get headerCalls() {
      return headerCalls;
    },
    last: () => statuses.at(-1)!,
  };
}

describe('the browser client against each status of ssemux/server', () => {
  it('200: reads the stream', async () => {
    const { url, realtime } = await countedServer({});
    const c = client(`${url}?topic=t`);
    await eventually(c.last, (status) => expect(status.state).toBe('open'));
    const cursor = await realtime.publish({ topic: 't', data: 'hello' });
    await eventually(() => c.events, (events) => expect(events.map((event) => event.id)).toEqual([cursor]));
  });

  it('204 (every topic denied): closes, never comes back', async () => {
    const { url, arrivals } = await countedServer({ authorize: () => false });
    const c = client(`${url}?topic=secret`);
    await eventually(c.last, (status) => expect(status).toMatchObject({ state: 'closed', error: { code: 'no-content', status: 204 } }));
    await sleep(600);
    expect(arrivals).toHaveLength(1);
  });

  it('401 (no credentials, or AuthenticationError thrown): asks for fresh headers and retries at once, then with backoff, and opens with valid ones', async () => {
    let token = 'stale';
    const { url, arrivals } = await countedServer({
      authenticate: (req) => {
        const sent = req.headers.authorization;
        if (!sent) return null;
        if (sent !== 'Bearer fresh') throw new AuthenticationError('token expired');
        return 'ann';
      },
    });
    // The first request carries no credentials (401 from null), the next ones a stale token
    // (401 from AuthenticationError) until a fresh one is given.
    let asked = 0;
    const c = client(`${url}?topic=t`, { initialMs: 400, headers: (): Record<string, string> => (asked++ === 0 ? {} : { Authorization: `Bearer ${token}` }) });
    await eventually(() => arrivals.length, (n) => expect(n).toBeGreaterThanOrEqual(4), 8_000);
    expect(c.statuses.filter((status) => status.error?.code === 'unauthorized' && status.error.status === 401).length).toBeGreaterThanOrEqual(3);
    // The first 401 is retried at once with fresh headers; the next ones after a growing wait.
    expect(arrivals[1]! - arrivals[0]!).toBeLessThan(300);
    expect(arrivals[3]! - arrivals[2]!).toBeGreaterThan(arrivals[2]! - arrivals[1]!);
    expect(c.headerCalls).toBe(arrivals.length);
    token = 'fresh';
    await eventually(c.last, (status) => expect(status.state).toBe('open'), 8_000);
  });

  it('500 (authenticate threw): retries with backoff, and opens once it stops throwing', async () => {
    let failing = true;
    const { url, arrivals } = await countedServer({
      authenticate: () => {
        if (failing) throw new Error('session store down');
        return 'ann';
      },
    });
    const c = client(`${url}?topic=t`, { initialMs: 300 });
    await eventually(() => arrivals.length, (n) => expect(n).toBeGreaterThanOrEqual(3), 5_000);
    expect(c.statuses.some((status) => status.state === 'reconnecting' && status.error?.status === 500)).toBe(true);
    // Backoff: the waits grow (300, 600 ms with the draw pinned at the ceiling).
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThan(arrivals[1]! - arrivals[0]!);
    failing = false;
    await eventually(c.last, (status) => expect(status.state).toBe('open'), 5_000);
  });

  it('503 with Retry-After (here a closed server; the store away and a disconnect during admission answer the same): waits at least that long, then retries', async () => {
    const { url, realtime, arrivals } = await countedServer({});
    await realtime.close();
    const c = client(`${url}?topic=t`);
    await eventually(() => arrivals.length, (n) => expect(n).toBeGreaterThanOrEqual(2), 5_000);
    expect(c.statuses.some((status) => status.state === 'reconnecting' && status.error?.status === 503)).toBe(true);
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(1_000);
  });

  it('400 (a topic name that is not well-formed) and 413 (a body past maxBodyBytes): closes, never comes back', async () => {
    const { url, arrivals } = await countedServer({ maxBodyBytes: 1_000 });
    // The topics of a POST are read from a JSON body (server protocol §2): the header says so.
    const json = () => ({ 'Content-Type': 'application/json' });
    const bad = client(url, { headers: json, body: JSON.stringify({ topics: ['room/\uD800'] }) });
    const large = client(url, { headers: json, body: JSON.stringify({ topics: ['x', 'y', 'z', 'w', 'v'].map((letter) => letter.repeat(200)) }) });
    await eventually(bad.last, (status) => expect(status).toMatchObject({ state: 'closed', error: { code: 'http', status: 400 } }));
    await eventually(large.last, (status) => expect(status).toMatchObject({ state: 'closed', error: { code: 'http', status: 413 } }));
    await sleep(600);
    expect(arrivals).toHaveLength(2);
  });
});

