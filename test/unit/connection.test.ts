import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection, ConnectionOptions } from '../../src/engine/connection.js';
import { createConnectionScope, type ConnectionScope } from '../../src/engine/connection-scope.js';
import { endpointOf } from '../../src/engine/downgrades.js';
import { MAX_TIMER_MS } from '../../src/protocol/delays.js';
import { DOWNGRADE_TTL_MS, LONG_POLL_TIMEOUT_MS, MIN_RETRY_MS, PRELUDE_TIMEOUT_MS } from '../../src/protocol/limits.js';
import { settle, until } from '../support/fake-time.js';
import { openConnection } from '../support/open-connection.js';
import { createSseMock } from '../support/sse-mock.js';

const URL_ = 'http://127.0.0.1:9/stream';

const { server, requests, serve } = createSseMock(URL_);
const connections: Connection[] = [];
/** The realm of the test's connections: they share its slots and downgrades. */
let scope: ConnectionScope;
const downgradeOf = (endpoint: string, now?: number) => scope.downgrades.of(endpoint, now);

const open = (overrides: Partial<ConnectionOptions> = {}) => openConnection(URL_, connections, { scope, ...overrides });

/** Moves the fake clock by `ms`, then lets the consequences settle. */
async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
  requests.length = 0;
  scope = createConnectionScope();
});
afterEach(async () => {
  // A downgrade is remembered for the endpoint: let it expire, as time would, between tests.
  expect(downgradeOf(endpointOf(URL_), Date.now() + DOWNGRADE_TTL_MS)).toBeUndefined();
  for (const c of connections.splice(0)) c.close();
  // An abort reaches the mock server's response a few turns later, more on a loaded machine: a
  // body never closed still fails here, after until's bound.
  await until(() => requests.every((r) => !r.live), 'every response body closed').catch(() => {});
  const live = requests.filter((r) => r.live).length;
  vi.useRealTimers();
  server.resetHandlers();
  expect(live, 'response bodies still open after close()').toBe(0);
});
afterAll(() => server.close());

describe('createConnection: the request', () => {
  it('sends Accept: text/event-stream and the provider headers, without Last-Event-ID on the first request', async () => {
    serve((req) => req.stream('data: hi\n\n'));
    const c = open({ headers: () => ({ Authorization: 'Bearer one', 'X-Tenant': 't1' }) });
    expect(c.statuses[0]).toMatchObject({ state: 'connecting', attempt: 0, transport: 'fetch', lastEventId: '' });
    await until(() => c.events.length === 1, 'first event');
    expect(requests).toHaveLength(1);
    const h = requests[0]!.headers;
    expect(h.get('accept')).toBe('text/event-stream');
    expect(h.get('authorization')).toBe('Bearer one');
    expect(h.get('x-tenant')).toBe('t1');
    expect(h.has('last-event-id')).toBe(false);
    expect(c.last()).toMatchObject({ state: 'open', attempt: 0 });
    expect(c.last().error).toBeUndefined();
    expect(c.events).toEqual([{ type: 'message', data: 'hi', id: '' }]);
  });
});

describe('createConnection: status rules', () => {
  it('204: closes for good with error no-content and never asks again', async () => {
    serve(() => new HttpResponse(null, { status: 204 }));
    const c = open();
    await until(() => c.last().state === 'closed', 'closed');
    expect(c.last()).toMatchObject({ state: 'closed', error: { code: 'no-content', status: 204 } });
    await advance(120_000);
    expect(requests).toHaveLength(1);
    expect(c.connection.status.state).toBe('closed');
  });

  it.each([500, 502, 503, 504, 408, 429])('%i: reconnecting with attempt and retryInMs, then a new request', async (code) => {
    serve((req, i) => (i === 0 ? new HttpResponse('busy', { status: code }) : req.stream()));
    const c = open();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last()).toMatchObject({ state: 'reconnecting', attempt: 1, retryInMs: 500, error: { code: 'http', status: code } });
    await advance(499);
    expect(requests).toHaveLength(1);
    await advance(1);
    await until(() => c.last().state === 'open', 'open');
    expect(requests).toHaveLength(2);
    expect(c.last().error).toBeUndefined();
    expect(c.last().retryInMs).toBeUndefined();
  });

  it('network error: reconnecting with code network, then a new request', async () => {
    serve((req, i) => (i === 0 ? HttpResponse.error() : req.stream()));
    const c = open();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last()).toMatchObject({ state: 'reconnecting', attempt: 1, retryInMs: 500, error: { code: 'network' } });
    await advance(500);
    await until(() => c.last().state === 'open', 'open');
    expect(requests).toHaveLength(2);
  });

  it('backs off exponentially over consecutive failures (jitter from the injected random)', async () => {
    serve(() => HttpResponse.error());
    const c = open({ random: () => 0.5 });
    const waits: number[] = [];
    for (let n = 1; n <= 4; n++) {
      await until(() => requests.length === n && c.last().state === 'reconnecting' && c.last().attempt === n, `attempt ${n}`);
      waits.push(c.last().retryInMs!);
      await advance(c.last().retryInMs!);
    }
    expect(waits).toEqual([500, 1000, 2000, 4000]);
  });

  it.each([
    [503, '5', 5000],
    [429, '3', 3000],
  ])('%i with Retry-After %j waits at least that long', async (code, retryAfter, wait) => {
    serve((req, i) => (i === 0 ? new HttpResponse(null, { status: code, headers: { 'Retry-After': retryAfter } }) : req.stream()));
    const c = open();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last()).toMatchObject({ attempt: 1, retryInMs: wait, error: { status: code } });
    await advance(wait - 1);
    expect(requests).toHaveLength(1);
    await advance(1);
    await until(() => requests.length === 2, 'second request');
  });

  it('Retry-After as an HTTP date is a minimum wait from now', async () => {
    const at = new Date(Date.now() + 7000).toUTCString();
    serve((req, i) => (i === 0 ? new HttpResponse(null, { status: 503, headers: { 'Retry-After': at } }) : req.stream()));
    const c = open();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last().retryInMs).toBe(7000);
    await advance(6999);
    expect(requests).toHaveLength(1);
    await advance(1);
    await until(() => requests.length === 2, 'second request');
  });

  it('a Retry-After shorter than the backoff does not shorten the backoff', async () => {
    serve((req, i) => (i === 0 ? new HttpResponse(null, { status: 429, headers: { 'Retry-After': '0' } }) : req.stream()));
    const c = open({ random: () => 0.9 });
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last().retryInMs).toBe(900);
    await advance(899);
    expect(requests).toHaveLength(1);
    await advance(1);
    await until(() => requests.length === 2, 'second request');
  });

  it('401: asks the headers provider again and retries at once; a second 401 in a row backs off', async () => {
    serve(() => new HttpResponse(null, { status: 401 }));
    let calls = 0;
    const c = open({ headers: () => ({ Authorization: `Bearer t${++calls}` }) });
    await until(() => requests.length === 2, 'immediate retry after 401');
    expect(calls).toBe(2);
    expect(requests.map((r) => r.headers.get('authorization'))).toEqual(['Bearer t1', 'Bearer t2']);
    const first401 = c.statuses.find((s) => s.state === 'reconnecting')!;
    expect(first401).toMatchObject({ attempt: 1, retryInMs: 0, error: { code: 'unauthorized', status: 401 } });
    await until(() => c.last().state === 'reconnecting' && c.last().attempt === 2, 'second 401');
    expect(c.last()).toMatchObject({ retryInMs: 1000, error: { code: 'unauthorized' } });
    await advance(999);
    expect(requests).toHaveLength(2);
    await advance(1);
    await until(() => requests.length === 3, 'third request');
    expect(requests[2]!.headers.get('authorization')).toBe('Bearer t3');
  });

  it('401 then fresh credentials that work: opens', async () => {
    serve((req) => (req.headers.get('authorization') === 'Bearer fresh' ? req.stream('data: ok\n\n') : new HttpResponse(null, { status: 401 })));
    const tokens = ['stale', 'fresh'];
    const c = open({ headers: async () => ({ Authorization: `Bearer ${tokens.shift() ?? 'none'}` }) });
    await until(() => c.events.length === 1, 'event');
    expect(requests).toHaveLength(2);
    expect(c.last()).toMatchObject({ state: 'open' });
    expect(c.last().error).toBeUndefined();
  });

  it.each([400, 403, 404, 410])('%i: closed with error.status and no retry', async (code) => {
    serve(() => new HttpResponse('nope', { status: code }));
    const c = open();
    await until(() => c.last().state === 'closed', 'closed');
    expect(c.last()).toMatchObject({ state: 'closed', error: { code: 'http', status: code } });
    expect(c.states()).not.toContain('reconnecting');
    await advance(120_000);
    expect(requests).toHaveLength(1);
  });

  it.each([['text/plain'], ['application/json'], [null]])('200 with content type %j: closed with code content-type', async (type) => {
    serve(() => new HttpResponse('data: x\n\n', { status: 200, headers: type ? { 'content-type': type } : {} }));
    const c = open();
    await until(() => c.last().state === 'closed', 'closed');
    expect(c.last().error).toMatchObject({ code: 'content-type', status: 200 });
    expect(c.events).toEqual([]);
    await advance(120_000);
    expect(requests).toHaveLength(1);
  });

  it('calls the headers provider before every attempt and sends what it returned', async () => {
    serve((req, i) => (i < 2 ? new HttpResponse(null, { status: 503 }) : req.stream()));
    let calls = 0;
    const c = open({ headers: async () => ({ Authorization: `Bearer ${++calls}` }) });
    await until(() => c.last().state === 'reconnecting', 'first failure');
    await advance(c.last().retryInMs!);
    await until(() => requests.length === 2 && c.last().state === 'reconnecting' && c.last().attempt === 2, 'second failure');
    await advance(c.last().retryInMs!);
    await until(() => c.last().state === 'open', 'open');
    expect(calls).toBe(3);
    expect(requests.map((r) => r.headers.get('authorization'))).toEqual(['Bearer 1', 'Bearer 2', 'Bearer 3']);
    expect(requests.every((r) => r.headers.get('accept') === 'text/event-stream')).toBe(true);
  });

  it('a headers provider that throws: reconnecting with code headers, no request sent', async () => {
    serve();
    let calls = 0;
    const c = open({
      headers: () => {
        if (++calls === 1) throw new Error('token service down');
        return { Authorization: 'Bearer ok' };
      },
    });
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last().error).toMatchObject({ code: 'headers', message: 'token service down' });
    expect(requests).toHaveLength(0);
    await advance(c.last().retryInMs!);
    await until(() => c.last().state === 'open', 'open');
    expect(requests[0]!.headers.get('authorization')).toBe('Bearer ok');
  });
});

describe('createConnection: resuming', () => {
  it('sends the last dispatched id after a drop mid-stream; an undispatched trailing block id is not used', async () => {
    serve((req, i) => (i === 0 ? req.stream('id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: never') : req.stream()));
    const c = open();
    await until(() => c.events.length === 2, 'two events');
    requests[0]!.drop();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last()).toMatchObject({ lastEventId: '2', error: { code: 'network' } });
    await advance(c.last().retryInMs!);
    await until(() => requests.length === 2, 'reconnect');
    expect(requests[1]!.headers.get('last-event-id')).toBe('2');
    expect(c.events.map((e) => e.data)).toEqual(['a', 'b']);
  });

  it('ignores an id-only block that never dispatched when the body ends', async () => {
    serve((req, i) => (i === 0 ? req.stream('id: 1\ndata: a\n\nid: 9\n') : req.stream()));
    const c = open();
    await until(() => c.events.length === 1, 'event');
    requests[0]!.end();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    await advance(c.last().retryInMs!);
    await until(() => requests.length === 2, 'reconnect');
    expect(requests[1]!.headers.get('last-event-id')).toBe('1');
  });

  it('a dispatched id-only block moves the resume point', async () => {
    serve((req, i) => (i === 0 ? req.stream('id: 1\ndata: a\n\nid: 5\n\n') : req.stream()));
    const c = open();
    await until(() => c.events.length === 1, 'event');
    await settle();
    requests[0]!.end();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last().lastEventId).toBe('5');
    await advance(c.last().retryInMs!);
    await until(() => requests.length === 2, 'reconnect');
    expect(requests[1]!.headers.get('last-event-id')).toBe('5');
  });

  it('starts from the given lastEventId on the first request', async () => {
    serve();
    open({ lastEventId: '41' });
    await until(() => requests.length === 1, 'request');
    expect(requests[0]!.headers.get('last-event-id')).toBe('41');
  });

  it('a server retry: sets the exact delay of the reconnect after a clean end', async () => {
    serve((req, i) => (i === 0 ? req.stream('retry: 1234\n\nid: 1\ndata: a\n\n') : req.stream()));
    const c = open({ random: () => 0.999 });
    await until(() => c.events.length === 1, 'event');
    requests[0]!.end();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last()).toMatchObject({ retryInMs: 1234, attempt: 1 });
    await advance(1233);
    expect(requests).toHaveLength(1);
    await advance(1);
    await until(() => requests.length === 2, 'reconnect');
    expect(requests[1]!.headers.get('last-event-id')).toBe('1');
  });

  it('delivers 1..M exactly once across drops and replays', async () => {
    const M = 12;
    const all = Array.from({ length: M }, (_, i) => i + 1);
    serve((req) => {
      const after = Number(req.headers.get('last-event-id') ?? '0');
      const pending = all.filter((id) => id > after);
      // Sends three events, the first half of the fourth, then drops.
      const full = pending.slice(0, 3).map((id) => `id: ${id}\ndata: event ${id}\n\n`).join('');
      const partial = pending[3] ? `id: ${pending[3]}\ndata: eve` : '';
      const response = req.stream(full + partial);
      if (pending.length > 3) setImmediate(() => req.drop());
      return response;
    });
    const c = open({ random: () => 0 });
    await until(() => c.events.length >= M, 'all events');
    await settle();
    expect(c.events.map((e) => Number(e.id))).toEqual(all);
    expect(c.events.map((e) => e.data)).toEqual(all.map((id) => `event ${id}`));
    expect(requests.map((r) => r.headers.get('last-event-id'))).toEqual([null, '3', '6', '9']);
    expect(c.last().state).toBe('open');
  });
});

describe('createConnection: liveness', () => {
  it('resets attempt to 0 only after the connection has stayed open for stableAfterMs', async () => {
    serve((req, i) => (i === 0 ? new HttpResponse(null, { status: 503 }) : req.stream()));
    const c = open({ stableAfterMs: 5000 });
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    await advance(c.last().retryInMs!);
    await until(() => c.last().state === 'open', 'open');
    expect(c.last().attempt).toBe(1);
    await advance(4999);
    expect(c.last().attempt).toBe(1);
    await advance(1);
    expect(c.last()).toMatchObject({ state: 'open', attempt: 0 });
  });

  it('a connection that drops before stableAfterMs keeps counting attempts', async () => {
    serve((req, i) => (i === 0 ? new HttpResponse(null, { status: 503 }) : req.stream()));
    const c = open({ stableAfterMs: 5000 });
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    await advance(c.last().retryInMs!);
    await until(() => c.last().state === 'open', 'open');
    await advance(4000);
    requests[1]!.drop();
    await until(() => c.last().state === 'reconnecting', 'reconnecting again');
    expect(c.last()).toMatchObject({ attempt: 2, retryInMs: 1000 });
    await advance(1000);
    await until(() => c.last().state === 'open', 'open again');
    await advance(2000); // 6 s after the first open: that one did not last, so no reset yet
    expect(c.last().attempt).toBe(2);
    await advance(3000);
    expect(c.last().attempt).toBe(0);
  });

  it('heartbeat: headers then silence → reconnecting with heartbeat-timeout after heartbeatTimeoutMs', async () => {
    serve();
    const c = open({ heartbeatTimeoutMs: 10_000 });
    await until(() => c.last().state === 'open', 'open');
    await advance(9999);
    expect(c.last().state).toBe('open');
    await advance(1);
    expect(c.last()).toMatchObject({ state: 'reconnecting', error: { code: 'heartbeat-timeout' } });
    expect(requests[0]!.signal.aborted).toBe(true);
    await advance(c.last().retryInMs!);
    await until(() => requests.length === 2, 'reconnect');
  });

  it('heartbeat: any byte, even a comment, keeps the stream alive', async () => {
    serve();
    const c = open({ heartbeatTimeoutMs: 10_000 });
    await until(() => c.last().state === 'open', 'open');
    await advance(6000);
    requests[0]!.send(': ping\n');
    await advance(6000);
    requests[0]!.send(':\n');
    await advance(9999);
    expect(c.last().state).toBe('open');
    expect(requests).toHaveLength(1);
    await advance(1);
    expect(c.last()).toMatchObject({ state: 'reconnecting', error: { code: 'heartbeat-timeout' } });
  });

  it('heartbeat: a request that never answers times out too', async () => {
    serve(() => new Promise<Response>(() => {}));
    const c = open({ heartbeatTimeoutMs: 10_000 });
    await until(() => requests.length === 1, 'request');
    await advance(10_000);
    expect(c.last()).toMatchObject({ state: 'reconnecting', error: { code: 'heartbeat-timeout' } });
    expect(requests[0]!.signal.aborted).toBe(true);
  });

  it('an online event during a backoff wait reconnects at once', async () => {
    serve((req, i) => (i === 0 ? HttpResponse.error() : req.stream()));
    const onlineTarget = new EventTarget();
    const c = open({ onlineTarget, backoff: { initialMs: 60_000, maxMs: 60_000, factor: 2 } });
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last().retryInMs).toBe(30_000);
    onlineTarget.dispatchEvent(new Event('online'));
    await until(() => c.last().state === 'open', 'open');
    expect(requests).toHaveLength(2);
    // The cancelled wait does not fire a third request later.
    await advance(60_000);
    expect(requests).toHaveLength(2);
  });

  it('an online event while open does nothing', async () => {
    serve();
    const onlineTarget = new EventTarget();
    const c = open({ onlineTarget });
    await until(() => c.last().state === 'open', 'open');
    onlineTarget.dispatchEvent(new Event('online'));
    await settle();
    expect(requests).toHaveLength(1);
    expect(requests[0]!.signal.aborted).toBe(false);
  });
});

describe('createConnection: close()', () => {
  it('aborts the open request; nothing is delivered afterwards', async () => {
    serve((req) => req.stream('id: 1\ndata: a\n\n'));
    const c = open();
    await until(() => c.events.length === 1, 'event');
    c.connection.close();
    expect(c.last()).toMatchObject({ state: 'closed', lastEventId: '1' });
    expect(c.last().error).toBeUndefined();
    await settle();
    expect(requests[0]!.signal.aborted).toBe(true);
    requests[0]!.send('id: 2\ndata: b\n\n');
    await advance(120_000);
    expect(c.events.map((e) => e.data)).toEqual(['a']);
    expect(requests).toHaveLength(1);
    expect(c.last().state).toBe('closed');
  });

  it('cancels a pending retry: no request after close even when the timers run out', async () => {
    serve(() => new HttpResponse(null, { status: 503 }));
    const c = open();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    const count = c.statuses.length;
    c.connection.close();
    expect(c.last().state).toBe('closed');
    expect(c.last().retryInMs).toBeUndefined();
    await advance(600_000);
    expect(requests).toHaveLength(1);
    expect(c.statuses).toHaveLength(count + 1);
  });

  it('while the headers provider is pending: no request is ever sent', async () => {
    serve();
    let resolve!: (h: Record<string, string>) => void;
    const c = open({ headers: () => new Promise((r) => (resolve = r)) });
    await settle();
    c.connection.close();
    resolve({ Authorization: 'Bearer late' });
    await advance(60_000);
    expect(requests).toHaveLength(0);
    expect(c.last().state).toBe('closed');
  });
});

describe('createConnection: event size', () => {
  it('drops an event over maxEventSize with error event-too-large, stays open and delivers the next', async () => {
    serve((req) => req.stream(`data: ${'x'.repeat(50)}\n\ndata: ok\n\n`));
    const c = open({ maxEventSize: 20 });
    await until(() => c.events.length === 1, 'event');
    expect(c.events.map((e) => e.data)).toEqual(['ok']);
    const tooLarge = c.statuses.find((s) => s.error?.code === 'event-too-large');
    expect(tooLarge).toMatchObject({ state: 'open' });
    expect(c.last().state).toBe('open');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.signal.aborted).toBe(false);
  });

  it('an event exactly maxEventSize long is delivered', async () => {
    serve((req) => req.stream(`data: ${'y'.repeat(20)}\n\n`));
    const c = open({ maxEventSize: 20 });
    await until(() => c.events.length === 1, 'event');
    expect(c.statuses.some((s) => s.error?.code === 'event-too-large')).toBe(false);
  });
});

describe('createConnection: POST', () => {
  it('sends the method and body on every attempt, with the same headers rules', async () => {
    serve((req, i) => (i === 0 ? HttpResponse.error() : req.stream('id: 1\ndata: ok\n\n')));
    const c = open({ method: 'POST', body: '{"query":"jobs"}' });
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    await vi.advanceTimersByTimeAsync(c.last().retryInMs!);
    await until(() => c.events.length === 1, 'event');
    expect(requests.map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(await Promise.all(requests.map((r) => r.body))).toEqual(['{"query":"jobs"}', '{"query":"jobs"}']);
    expect(requests[1]!.headers.get('accept')).toBe('text/event-stream');
  });
});

describe('createConnection: long-poll', () => {
  it('marks requests transport=long-poll and asks again at once with Last-Event-ID, staying open', async () => {
    serve((req, i) => {
      if (i === 0) {
        const r = req.stream('id: 1\ndata: a\n\nid: 2\ndata: b\n\n');
        req.end();
        return r;
      }
      if (i === 1) {
        const r = req.stream('id: 3\ndata: c\n\n');
        req.end();
        return r;
      }
      return req.stream();
    });
    const c = open({ transport: 'long-poll' });
    await until(() => requests.length === 3, 'third poll');
    await settle();
    expect(requests.map((r) => r.url.searchParams.get('transport'))).toEqual(['long-poll', 'long-poll', 'long-poll']);
    expect(requests.map((r) => r.headers.get('last-event-id'))).toEqual([null, '2', '3']);
    expect(requests.every((r) => r.headers.get('accept') === 'text/event-stream')).toBe(true);
    expect(c.events.map((e) => e.id)).toEqual(['1', '2', '3']);
    expect(c.states()).not.toContain('reconnecting');
    expect(c.last()).toMatchObject({ state: 'open', transport: 'long-poll', attempt: 0 });
  });

  it('an empty answer is followed no sooner than minRetryMs after its poll began; an answer with events at once', async () => {
    serve((req, i) => {
      const r = req.stream(i === 1 ? 'id: 7\ndata: z\n\n' : '');
      if (i < 2) req.end();
      return r;
    });
    const c = open({ transport: 'long-poll', lastEventId: '6' });
    await until(() => requests.length === 1, 'first poll');
    await settle();
    // The server answered at once with nothing: asking again at once would be a hot loop.
    await advance(MIN_RETRY_MS - 10);
    expect(requests).toHaveLength(1);
    await advance(10);
    await until(() => requests.length === 3, 'second and third polls');
    expect(requests.map((r) => r.headers.get('last-event-id'))).toEqual(['6', '6', '7']);
    expect(c.events.map((e) => e.data)).toEqual(['z']);
    expect(c.states()).not.toContain('reconnecting');
  });

  it('a held poll is not a dead one: it times out only after LONG_POLL_TIMEOUT_MS, whatever heartbeatTimeoutMs says', async () => {
    serve();
    const c = open({ transport: 'long-poll', heartbeatTimeoutMs: 1000 });
    await until(() => c.last().state === 'open', 'open');
    await advance(LONG_POLL_TIMEOUT_MS - 1);
    expect(c.last().state).toBe('open');
    expect(requests).toHaveLength(1);
    await advance(1);
    expect(c.last()).toMatchObject({ state: 'reconnecting', error: { code: 'heartbeat-timeout' } });
  });

  it('a failed poll backs off like a stream', async () => {
    serve((req, i) => (i === 0 ? new HttpResponse(null, { status: 502 }) : req.stream()));
    const c = open({ transport: 'long-poll' });
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last()).toMatchObject({ attempt: 1, retryInMs: 500, transport: 'long-poll' });
    await advance(499);
    expect(requests).toHaveLength(1);
    await advance(1);
    await until(() => c.last().state === 'open', 'open');
  });
});

describe('createConnection: buffering proxies', () => {
  it('auto: two streams in a row without one byte of body → long-poll, said in the status, remembered for the endpoint', async () => {
    // A proxy that holds the body: headers may pass, bytes never do, until the response ends.
    serve((req) => {
      if (req.url.searchParams.get('transport') !== 'long-poll') return req.stream();
      // Long-polls end, so they get through: the first answers with an event, the next is held.
      if (req.headers.get('last-event-id')) return req.stream();
      const r = req.stream('id: 1\ndata: through\n\n');
      req.end();
      return r;
    });
    const c = open({ url: `${URL_}?stream=a`, transport: 'auto', heartbeatTimeoutMs: 1000 });
    await until(() => c.last().state === 'open', 'open');
    expect(c.last().transport).toBe('fetch');
    await advance(1000);
    expect(c.last()).toMatchObject({ state: 'reconnecting', transport: 'fetch', error: { code: 'heartbeat-timeout' } });
    await advance(c.last().retryInMs!);
    await until(() => requests.length === 2, 'second stream');
    await advance(1000);
    await advance(1); // the switch is a zero-delay timer
    await until(() => c.events.length > 0, 'an event by long-poll');
    expect(c.last()).toMatchObject({ state: 'open', transport: 'long-poll', fallbackReason: expect.stringMatching(/long-poll/) });
    expect(c.events[0]).toEqual({ type: 'message', data: 'through', id: '1' });
    c.connection.close();

    // Another stream of the same endpoint starts on long-poll at once.
    const d = open({ url: `${URL_}?stream=b`, transport: 'auto', heartbeatTimeoutMs: 1000 });
    expect(d.last()).toMatchObject({ transport: 'long-poll', fallbackReason: expect.stringMatching(/long-poll/) });
  });

  it('an explicit transport is never downgraded', async () => {
    serve();
    const c = open({ url: `${URL_}?stream=explicit`, transport: 'fetch', heartbeatTimeoutMs: 1000 });
    for (let i = 0; i < 3; i++) {
      await until(() => c.last().state === 'open', 'open');
      await advance(1000);
      expect(c.last()).toMatchObject({ state: 'reconnecting', transport: 'fetch', error: { code: 'heartbeat-timeout' } });
      await advance(c.last().retryInMs!);
    }
  });
});

describe('createConnection: floors, clamps and the silence clock', () => {
  it('retry: 0 and a clean end at once: a few requests in 5 s, not a hot loop', async () => {
    serve((req) => {
      const r = req.stream('retry: 0\n\n');
      req.end();
      return r;
    });
    open();
    await advance(5000);
    // t = 0, 1000 (the floor), 2000 and 4000 (backing off as a failing stream would).
    expect(requests).toHaveLength(4);
  });

  it('Retry-After: 3000000 waits as long as a timer can, instead of overflowing into an immediate retry', async () => {
    serve((req, i) => (i === 0 ? new HttpResponse(null, { status: 503, headers: { 'retry-after': '3000000' } }) : req.stream()));
    const c = open();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last().retryInMs).toBe(MAX_TIMER_MS);
    await advance(60 * 60 * 1000);
    expect(requests).toHaveLength(1);
  });

  it('retry: 2147483648 is clamped too', async () => {
    serve((req, i) => {
      const r = req.stream(i === 0 ? 'retry: 2147483648\n\n' : '');
      if (i === 0) req.end();
      return r;
    });
    const c = open();
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last().retryInMs).toBe(MAX_TIMER_MS);
    await advance(60 * 60 * 1000);
    expect(requests).toHaveLength(1);
  });

  it('a headers provider slower than heartbeatTimeoutMs is not silence: the clock starts when the request is sent', async () => {
    serve((req) => req.stream(': hi\n\n'));
    const c = open({
      transport: 'auto',
      heartbeatTimeoutMs: 1000,
      headers: () => new Promise((resolve) => setTimeout(() => resolve({ A: '1' }), 2500)),
    });
    await advance(2500);
    await until(() => c.last().state === 'open', 'open');
    expect(c.statuses.map((s) => s.error?.code).filter(Boolean)).toEqual([]);
    expect(c.last().transport).toBe('fetch');
    expect(requests).toHaveLength(1);
  });

  it('restart() sends a new request at once, from the position it is given', async () => {
    serve((req) => req.stream());
    const c = open({ lastEventId: '5' });
    await until(() => requests.length === 1, 'first request');
    c.connection.restart({ lastEventId: '2' });
    await until(() => requests.length === 2, 'second request');
    expect(requests.map((r) => r.headers.get('last-event-id'))).toEqual(['5', '2']);
    expect(requests[0]!.signal.aborted).toBe(true);
  });
});

describe('createConnection: the buffering probe', () => {
  it('ends once the stream opens: no second request stays open beside it (a slow server, not a proxy)', async () => {
    serve((req, i) => {
      // A slow first answer (a cold start); a long-poll is held while there is nothing to send.
      if (i === 0) return new Promise<Response>(() => {});
      return req.stream(req.url.searchParams.get('transport') === 'long-poll' ? '' : ': hi\n\n');
    });
    const c = open({ transport: 'auto', heartbeatTimeoutMs: 1000, maxConnections: 1 });
    await advance(1000);
    await advance(c.last().retryInMs ?? 0);
    await until(() => c.last().state === 'open', 'the stream open');
    const probe = requests.find((r) => r.url.searchParams.get('transport') === 'long-poll');
    expect(probe, 'a probe was sent').toBeDefined();
    await until(() => probe!.signal.aborted, 'the probe ended');
    expect(c.last()).toMatchObject({ state: 'open', transport: 'fetch' });
  });
});

describe('createConnection: downgrades only on evidence', () => {
  it('no response at all, and a long-poll gets none either: a slow server, not a proxy; no downgrade', async () => {
    serve(() => new Promise<Response>(() => {}));
    const c = open({ transport: 'auto', heartbeatTimeoutMs: 1000 });
    for (let i = 0; i < 3; i++) await advance(c.last().retryInMs ?? 1000);
    expect(c.statuses.map((s) => s.error?.code)).toContain('heartbeat-timeout');
    expect(c.statuses.every((s) => s.transport === 'fetch')).toBe(true);
    expect(downgradeOf(endpointOf(URL_))).toBeUndefined();
  });

  it('no response at all, while a long-poll gets a complete answer through: responses are held until complete; long-poll', async () => {
    serve((req) => {
      if (req.url.searchParams.get('transport') !== 'long-poll') return new Promise<Response>(() => {});
      // A complete answer gets through the proxy; once the client has the event, the poll is held.
      if (req.headers.get('last-event-id')) return req.stream();
      const r = req.stream('id: 1\ndata: through\n\n');
      req.end();
      return r;
    });
    const c = open({ transport: 'auto', heartbeatTimeoutMs: 1000 });
    await advance(1000);
    await until(() => c.last().transport === 'long-poll', 'long-poll');
    expect(c.statuses.map((x) => x.error?.code)).toContain('buffered-stream');
    expect(c.last().fallbackReason).toMatch(/long-poll/);
    await until(() => c.events.length > 0, 'an event by long-poll');
    expect(c.events[0]).toEqual({ type: 'message', data: 'through', id: '1' });
  });

  it('a server that promises a prelude (ssemux header) and sends no byte: long-poll within preludeTimeoutMs, not two heartbeat windows', async () => {
    serve((req) => {
      if (req.url.searchParams.get('transport') === 'long-poll') return req.stream();
      return new HttpResponse(new ReadableStream(), { headers: { 'content-type': 'text/event-stream', ssemux: '1' } });
    });
    const c = open({ transport: 'auto', heartbeatTimeoutMs: 45_000 });
    await until(() => c.last().state === 'open', 'open');
    await advance(PRELUDE_TIMEOUT_MS - 1);
    expect(c.last().transport).toBe('fetch');
    await advance(1);
    await until(() => c.last().transport === 'long-poll', 'long-poll');
    expect(c.last().fallbackReason).toMatch(/long-poll/);
  });

  it('a remembered downgrade expires: after downgradeTtlMs a new stream of the endpoint tries fetch again', async () => {
    serve((req) => {
      if (req.url.searchParams.get('transport') === 'long-poll') return req.stream();
      return new HttpResponse(new ReadableStream(), { headers: { 'content-type': 'text/event-stream', ssemux: '1' } });
    });
    const c = open({ transport: 'auto' });
    await until(() => c.last().state === 'open', 'open');
    await advance(PRELUDE_TIMEOUT_MS);
    await until(() => c.last().transport === 'long-poll', 'long-poll');
    c.connection.close();
    expect(open({ transport: 'auto' }).last().transport).toBe('long-poll');
    vi.setSystemTime(Date.now() + DOWNGRADE_TTL_MS);
    expect(open({ transport: 'auto' }).last().transport).toBe('fetch');
  });
});

describe('createConnection: the per-origin cap', () => {
  it('past maxConnections a stream waits for a slot, says so, and opens when one frees', async () => {
    serve((req) => req.stream());
    const a = open({ maxConnections: 2 });
    open({ maxConnections: 2 });
    await until(() => requests.length === 2, 'two requests');
    const c = open({ maxConnections: 2 });
    await settle();
    expect(requests).toHaveLength(2);
    expect(c.last()).toMatchObject({ state: 'connecting', error: { code: 'connection-limit', message: expect.stringMatching(/maxConnections/) } });
    a.connection.close();
    await until(() => requests.length === 3, 'third request');
    await until(() => c.last().state === 'open', 'open');
    expect(c.last().error).toBeUndefined();
  });

  it('a restart (new topics) keeps its slot: a stream waiting for one does not take it from an open stream', async () => {
    serve((req) => req.stream(': hi\n\n'));
    const a = open({ maxConnections: 1 });
    await until(() => a.last().state === 'open', 'a open');
    const b = open({ maxConnections: 1 });
    await settle();
    expect(b.last().error?.code).toBe('connection-limit');
    a.connection.restart({ url: `${URL_}?topic=a&topic=b` });
    await until(() => requests.length === 2, 'the restarted request');
    await advance(60_000);
    expect(requests.map((r) => r.url.search)).toEqual(['', '?topic=a&topic=b']);
    expect(requests[1]!.live).toBe(true);
    expect(a.last()).toMatchObject({ state: 'open' });
    expect(a.last().error).toBeUndefined();
    expect(b.last().error?.code).toBe('connection-limit');
    // Its slot is the one it had: closed, the waiting stream gets it.
    a.connection.close();
    await until(() => requests.length === 3, 'the waiting stream');
  });

  it('a long-poll keeps its slot between polls: a stream waiting for one does not take it', async () => {
    let polls = 0;
    serve((req) => {
      if (req.url.searchParams.get('transport') !== 'long-poll') return req.stream();
      polls++;
      // An empty answer: the next poll follows after the floor.
      return new Response(': ssemux 1\nretry: 1000\n\n', { headers: { 'content-type': 'text/event-stream' } });
    });
    const a = open({ maxConnections: 1, transport: 'long-poll' });
    await until(() => polls === 1, 'the first poll');
    const b = open({ maxConnections: 1 });
    await settle();
    await advance(5_000);
    expect(polls).toBeGreaterThan(2);
    expect(requests.filter((r) => r.url.searchParams.get('transport') !== 'long-poll')).toEqual([]);
    expect(b.last().error?.code).toBe('connection-limit');
    expect(a.last().state).toBe('open');
    a.connection.close();
    await until(() => requests.some((r) => r.url.searchParams.get('transport') !== 'long-poll'), 'the waiting stream');
  });

  it('a stream with a larger limit is not held behind one that waits on a smaller one', async () => {
    serve((req) => req.stream());
    open({ maxConnections: 1 });
    await until(() => requests.length === 1, 'one request');
    const small = open({ maxConnections: 1 });
    const large = open({ maxConnections: 5 });
    await until(() => requests.length === 2, 'the large one');
    expect(small.last().error?.code).toBe('connection-limit');
    expect(large.last().error).toBeUndefined();
  });
});

describe('createConnection: position reports', () => {
  it('onId reports id-only blocks only (an event carries its own id), in order with the events', async () => {
    serve((req) => req.stream('id: 1\ndata: a\n\nid: 2\n\nid: 3\n\nid: 4\ndata: b\n\nid: 5\n\n'));
    const seen: string[] = [];
    open({ onEvent: (e) => seen.push(`event ${e.id}`), onId: (id) => seen.push(`id ${id}`) });
    await until(() => seen.length === 5, 'five reports');
    expect(seen).toEqual(['event 1', 'id 2', 'id 3', 'event 4', 'id 5']);
  });
});
