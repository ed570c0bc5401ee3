import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { credentialsKeyOf } from '../../src/client/credentials-key.js';
import { createRealtimeClient, type RealtimeClient } from '../../src/client/create-realtime-client.js';
import { resolveOptions } from '../../src/client/resolve-options.js';
import { MAX_TIMER_MS } from '../../src/protocol/delays.js';
import { isRealtimeError, RealtimeError } from '../../src/protocol/errors.js';
import type { EventMap, RealtimeClientOptions, RealtimeMessage, RealtimeStatus } from '../../src/protocol/types.js';
import { settle, until } from '../support/fake-time.js';
import { createSseMock } from '../support/sse-mock.js';

const BASE = 'http://127.0.0.1:9/client';

const { server, requests, serve } = createSseMock(`${BASE}/*`);
const clients: RealtimeClient<EventMap>[] = [];
let counter = 0;

/** A fresh URL per test: the in-tab hub outlives a client by its grace period. */
function nextUrl(): string {
  return `${BASE}/${++counter}`;
}

function client<E extends EventMap = EventMap>(options: Partial<RealtimeClientOptions> = {}): RealtimeClient<E> {
  const c = createRealtimeClient<E>({ url: nextUrl(), sharing: 'none', transport: 'fetch', inert: false, ...options });
  clients.push(c as unknown as RealtimeClient<EventMap>);
  return c;
}

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  // sharing 'none' loads the fallback modes, a client with headers its credentials, as chunks on first
  // use; have Vitest transform them before the fake clock runs.
  await import('../../src/client/fallback-order.js');
  await import('../../src/client/credentials.js');
});
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  // The backoff's draw, pinned: half the ceiling. A draw near 0 made a retry due at once, and a test
  // that waits to see 'reconnecting' missed it (1 run in about 200).
  vi.spyOn(Math, 'random').mockReturnValue(0.5);
  requests.length = 0;
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  // Past the hub's grace period: the shared upstream closes too.
  await vi.advanceTimersByTimeAsync(5000);
  await settle(2);
  const open = requests.filter((r) => !r.signal.aborted).length;
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  server.resetHandlers();
  expect(open, 'requests still open after close + grace').toBe(0);
});
afterAll(() => server.close());

describe('createRealtimeClient: messages', () => {
  it('on(type) gets {type, data, text, lastEventId} for its type only', async () => {
    serve((req) =>
      req.stream('event: greet\nid: 1\ndata: {"hello":"world"}\n\nevent: other\nid: 2\ndata: 2\n\ndata: 3\n\nevent: greet\nid: 4\ndata: {"hello":"again"}\n\n'),
    );
    const c = client<{ greet: { hello: string }; other: number }>();
    const got: RealtimeMessage<{ hello: string }, 'greet'>[] = [];
    const hellos: string[] = [];
    c.on('greet', (msg) => {
      got.push(msg);
      hellos.push(msg.data.hello);
    });
    await until(() => got.length === 2, 'two greet events');
    expect(got[0]).toEqual({ type: 'greet', data: { hello: 'world' }, text: '{"hello":"world"}', lastEventId: '1' });
    expect(got[1]).toEqual({ type: 'greet', data: { hello: 'again' }, text: '{"hello":"again"}', lastEventId: '4' });
    expect(hellos).toEqual(['world', 'again']);
    expect(c.status.lastEventId).toBe('4');
  });

  it("'*' gets every event, including unnamed (message) ones", async () => {
    serve((req) => req.stream('data: 1\n\nevent: a\ndata: 2\n\nevent: b\ndata: 3\n\n'));
    const c = client();
    const seen: string[] = [];
    c.on('*', (msg) => seen.push(`${msg.type}:${String(msg.data)}`));
    await until(() => seen.length === 3, 'three events');
    expect(seen).toEqual(['message:1', 'a:2', 'b:3']);
  });

  it("a type listener and '*' both get the event, once each", async () => {
    serve((req) => req.stream('event: a\ndata: "x"\n\n'));
    const c = client();
    const calls: string[] = [];
    c.on('a', () => calls.push('a'));
    c.on('*', () => calls.push('*'));
    await until(() => calls.length >= 2, 'calls');
    await settle();
    expect(calls.sort()).toEqual(['*', 'a']);
  });

  it("parse 'json' with bad JSON: status error 'parse', listeners not called, the next good event delivered", async () => {
    serve((req) => req.stream('id: 1\ndata: {bad json\n\nid: 2\ndata: {"ok":true}\n\n'));
    const c = client();
    const statuses: RealtimeStatus[] = [];
    c.onStatus((s) => statuses.push(s));
    const own: unknown[] = [];
    const all: unknown[] = [];
    c.on('message', (msg) => own.push(msg.data));
    c.on('*', (msg) => all.push(msg.data));
    await until(() => own.length === 1, 'good event');
    await settle();
    expect(own).toEqual([{ ok: true }]);
    expect(all).toEqual([{ ok: true }]);
    const parseStatus = statuses.find((s) => s.error?.code === 'parse');
    expect(parseStatus).toBeDefined();
    expect(parseStatus!.error!.message).toMatch(/1/);
    expect(c.status.state).toBe('open');
  });

  it("parse 'text' hands over the raw text", async () => {
    serve((req) => req.stream('data: {"not":"parsed"}\n\ndata: line1\ndata: line2\n\n'));
    const c = client({ parse: 'text' });
    const got: unknown[] = [];
    c.on('message', (msg) => got.push(msg.data));
    await until(() => got.length === 2, 'events');
    expect(got).toEqual(['{"not":"parsed"}', 'line1\nline2']);
  });

  it('a custom parse function gets (text, type) and its result is msg.data', async () => {
    serve((req) => req.stream('event: n\ndata: 21\n\nevent: s\ndata: abc\n\n'));
    const parse = vi.fn((text: string, type: string) => (type === 'n' ? Number(text) * 2 : text.toUpperCase()));
    const c = client({ parse });
    const got: unknown[] = [];
    c.on('*', (msg) => got.push(msg.data));
    await until(() => got.length === 2, 'events');
    expect(got).toEqual([42, 'ABC']);
    expect(parse.mock.calls).toEqual([
      ['21', 'n'],
      ['abc', 's'],
    ]);
  });

  it('a custom parse that throws reports parse and skips the listeners for that event only', async () => {
    serve((req) => req.stream('data: boom\n\ndata: fine\n\n'));
    const c = client({
      parse: (text) => {
        if (text === 'boom') throw new Error('cannot parse boom');
        return text;
      },
    });
    const got: unknown[] = [];
    const statuses: RealtimeStatus[] = [];
    c.onStatus((s) => statuses.push(s));
    c.on('message', (msg) => got.push(msg.data));
    await until(() => got.length === 1, 'event');
    expect(got).toEqual(['fine']);
    expect(statuses.some((s) => s.error?.code === 'parse' && s.error.message.includes('cannot parse boom'))).toBe(true);
  });

  it('a listener that throws does not stop the others; the error is reported', async () => {
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (e: unknown) => void reported.push(e));
    serve((req) => req.stream('data: 1\n\ndata: 2\n\n'));
    const c = client();
    const before: unknown[] = [];
    const after: unknown[] = [];
    const star: unknown[] = [];
    c.on('message', (msg) => before.push(msg.data));
    c.on('message', () => {
      throw new Error('listener bug');
    });
    c.on('message', (msg) => after.push(msg.data));
    c.on('*', (msg) => star.push(msg.data));
    await until(() => star.length === 2, 'events');
    expect(before).toEqual([1, 2]);
    expect(after).toEqual([1, 2]);
    expect(reported).toHaveLength(2);
    expect((reported[0] as Error).message).toBe('listener bug');
  });

  it('a status listener that throws does not stop the others', async () => {
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (e: unknown) => void reported.push(e));
    serve();
    const c = client();
    const states: string[] = [];
    c.onStatus(() => {
      throw new Error('status listener bug');
    });
    c.onStatus((s) => states.push(s.state));
    await until(() => states.includes('open'), 'open');
    expect(reported.length).toBeGreaterThan(0);
  });

  it('the function returned by on() stops delivery to that listener only', async () => {
    serve();
    const c = client();
    const a: unknown[] = [];
    const b: unknown[] = [];
    const off = c.on('message', (msg) => a.push(msg.data));
    c.on('message', (msg) => b.push(msg.data));
    await until(() => requests.length === 1 && c.status.state === 'open', 'open');
    requests[0]!.send('data: 1\n\n');
    await until(() => b.length === 1, 'first');
    off();
    off(); // twice is harmless
    requests[0]!.send('data: 2\n\n');
    await until(() => b.length === 2, 'second');
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
  });

  it('client.status.lastEventId follows delivered events', async () => {
    serve((req) => req.stream('id: a1\ndata: 1\n\nid: a2\ndata: 2\n\n'));
    const c = client();
    const ids: string[] = [];
    c.on('message', (msg) => ids.push(msg.lastEventId));
    await until(() => ids.length === 2, 'events');
    expect(ids).toEqual(['a1', 'a2']);
    expect(c.status.lastEventId).toBe('a2');
  });
});

describe('createRealtimeClient: listeners that change things while they run', () => {
  it('close() in a listener: the events of the same delivery reach no other listener', async () => {
    serve((req) => req.stream());
    const c = client({ parse: 'text' });
    const seen: string[] = [];
    c.on('done', () => c.close());
    c.on('progress', (m) => seen.push(m.lastEventId));
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    // One read: 'done', then two progress events, delivered together.
    requests[0]!.send('event: done\nid: 1\ndata: x\n\nevent: progress\nid: 2\ndata: 50\n\nevent: progress\nid: 3\ndata: 60\n\n');
    await until(() => c.status.state === 'closed', 'closed');
    await settle();
    expect(seen).toEqual([]);
  });

  it('a listener that removes and adds itself again hears each event once (it hung the page)', async () => {
    serve((req) => req.stream());
    const c = client({ parse: 'text' });
    const calls: string[] = [];
    let n = 0;
    const handler = (m: RealtimeMessage) => {
      calls.push(m.lastEventId);
      off();
      // Bounded so that the test ends where the client does not.
      if (++n < 50) off = c.on('tick', handler);
    };
    c.on('tick', () => {});
    let off = c.on('tick', handler);
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    requests[0]!.send('event: tick\nid: 1\ndata: a\n\nevent: tick\nid: 2\ndata: b\n\n');
    await until(() => calls.length >= 2, 'both ticks');
    await settle();
    expect(calls).toEqual(['1', '2']);
  });

  for (const how of ['closes its client', 'removes itself (a once listener)'] as const) {
    it(`tabs: 'one': a one-listener that ${how} while it runs does not make the event run in another tab`, async () => {
      serve((req) => req.stream());
      const url = nextUrl();
      const ran: string[] = [];
      // Two clients of one stream: one page here, as two tabs are with a worker.
      const a = client({ url, parse: 'text' });
      const off = a.on(
        'session-ended',
        (m) => {
          ran.push(`a:${m.lastEventId}`);
          if (how === 'closes its client') a.close();
          else off();
        },
        { tabs: 'one' },
      );
      const b = client({ url, parse: 'text' });
      b.on('session-ended', (m) => ran.push(`b:${m.lastEventId}`), { tabs: 'one' });
      await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
      requests[0]!.send('event: session-ended\nid: 1\ndata: x\n\n');
      await until(() => ran.length >= 1, 'a one-listener ran');
      // The next event goes to b: by then a's leaving has been handled.
      requests[0]!.send('event: session-ended\nid: 2\ndata: y\n\n');
      await until(() => ran.includes('b:2'), 'b runs the next one');
      expect(ran).toEqual(['a:1', 'b:2']);
    });
  }
});

describe('createRealtimeClient: lifecycle', () => {
  it('onStatus sees connecting then open, with transport and sharing', async () => {
    serve();
    const c = client();
    expect(c.status).toMatchObject({ state: 'connecting', transport: 'fetch', sharing: 'none', attempt: 0, lastEventId: '' });
    const statuses: RealtimeStatus[] = [];
    c.onStatus((s) => statuses.push(s));
    await until(() => c.status.state === 'open', 'open');
    expect(statuses.map((s) => s.state)).toEqual(['connecting', 'open']);
    expect(statuses[1]).toMatchObject({ state: 'open', transport: 'fetch', sharing: 'none', attempt: 0 });
    expect(statuses[1]!.error).toBeUndefined();
  });

  it('close(): status closed, no more events, and the upstream ends after the grace period', async () => {
    serve();
    const c = client();
    const got: unknown[] = [];
    const states: string[] = [];
    c.on('message', (msg) => got.push(msg.data));
    c.onStatus((s) => states.push(s.state));
    await until(() => c.status.state === 'open', 'open');
    requests[0]!.send('data: 1\n\n');
    await until(() => got.length === 1, 'event');
    c.close();
    expect(c.status.state).toBe('closed');
    expect(states.at(-1)).toBe('closed');
    requests[0]!.send('data: 2\n\n');
    await settle();
    expect(got).toEqual([1]);
    expect(states.at(-1)).toBe('closed');
    await vi.advanceTimersByTimeAsync(3000);
    await settle();
    expect(requests[0]!.signal.aborted).toBe(true);
    expect(requests).toHaveLength(1);
  });

  it('a server 404 closes the client with error.status', async () => {
    serve(() => new HttpResponse('gone', { status: 404 }));
    const c = client();
    await until(() => c.status.state === 'closed', 'closed');
    expect(c.status.error).toMatchObject({ code: 'http', status: 404 });
  });

  it('sends the headers of a provider, called again before a reconnect', async () => {
    serve((req, i) => (i === 0 ? new HttpResponse(null, { status: 503 }) : req.stream()));
    let n = 0;
    const c = client({ headers: async () => ({ Authorization: `Bearer token-${++n}` }), backoff: { initialMs: 100, maxMs: 100 } });
    await until(() => requests.length === 1 && c.status.state === 'reconnecting', 'reconnecting');
    await vi.advanceTimersByTimeAsync(100);
    await until(() => c.status.state === 'open', 'open');
    // Call 1 names the credentials and serves the first request; one fresh call before each later attempt.
    expect(requests.map((r) => r.headers.get('authorization'))).toEqual(['Bearer token-1', 'Bearer token-2']);
    expect(n).toBe(2);
  });

  it('two clients of one tab with the same stream share one request', async () => {
    serve((req) => req.stream('data: "shared"\n\n'));
    const url = nextUrl();
    const a = client({ url });
    const b = client({ url });
    const got: string[] = [];
    a.on('message', () => got.push('a'));
    b.on('message', () => got.push('b'));
    await until(() => got.length === 2, 'both');
    expect(requests).toHaveLength(1);
    expect(got.sort()).toEqual(['a', 'b']);
  });
});

describe('createRealtimeClient: options validation', () => {
  function invalid(options: unknown, names: string): void {
    let thrown: unknown;
    try {
      const c = createRealtimeClient((options && typeof options === 'object' ? { inert: false, ...options } : options) as RealtimeClientOptions);
      c.close();
    } catch (error) {
      thrown = error;
    }
    expect(thrown, `expected ${names} to be rejected`).toBeInstanceOf(RealtimeError);
    expect(isRealtimeError(thrown)).toBe(true);
    expect((thrown as RealtimeError).code).toBe('invalid-options');
    expect((thrown as RealtimeError).message).toContain(names);
  }
  const url = 'http://127.0.0.1:9/validation';

  it('missing url', () => invalid({ sharing: 'none' }, 'url'));
  it('no options at all', () => invalid(undefined, 'options'));
  it('bad sharing', () => invalid({ url, sharing: 'tabs' }, 'sharing'));
  it('bad transport', () => invalid({ url, sharing: 'none', transport: 'websocket' }, 'transport'));
  it('eventsource with headers', () => invalid({ url, sharing: 'none', transport: 'eventsource', headers: { A: 'b' } }, 'headers'));
  it('eventsource with a headers provider', () => invalid({ url, sharing: 'none', transport: 'eventsource', headers: () => ({}) }, 'eventsource'));
  it('negative heartbeatTimeoutMs', () => invalid({ url, sharing: 'none', heartbeatTimeoutMs: -1 }, 'heartbeatTimeoutMs'));
  it('zero heartbeatTimeoutMs', () => invalid({ url, sharing: 'none', heartbeatTimeoutMs: 0 }, 'heartbeatTimeoutMs'));
  it('waits longer than a timer holds wait as long as one can (about 24.8 days), not 0 ms', () => {
    for (const ms of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
      const { stream } = resolveOptions({ url, heartbeatTimeoutMs: ms, headersTimeoutMs: ms, inert: true });
      expect([stream.heartbeatTimeoutMs, stream.headersTimeoutMs]).toEqual([MAX_TIMER_MS, MAX_TIMER_MS]);
    }
  });
  it('backoff.maxMs below initialMs', () => invalid({ url, sharing: 'none', backoff: { initialMs: 5000, maxMs: 1000 } }, 'backoff.maxMs'));
  it('backoff.maxMs below the default initialMs', () => invalid({ url, sharing: 'none', backoff: { maxMs: 500 } }, 'backoff.maxMs'));
  it('shared-worker without workerUrl', () => invalid({ url, sharing: 'shared-worker' }, 'workerUrl'));
  it('a relative url without a page to resolve it against', () => invalid({ url: '/events', sharing: 'none' }, 'url'));
  for (const scheme of ['ftp://127.0.0.1/events', 'about:blank', 'mailto:a@example.com', 'javascript:void(0)']) {
    it(`a url fetch cannot get: ${scheme}`, () => invalid({ url: scheme, sharing: 'none' }, 'http:, https:, data: or blob:'));
  }
});

describe('isRealtimeError', () => {
  it('recognises an instance and its structured clone (toJSON plus name)', () => {
    const error = new RealtimeError('http', 'Server answered 404', 404);
    expect(isRealtimeError(error)).toBe(true);
    const cloned = structuredClone({ ...error.toJSON(), name: error.name });
    expect(cloned).toEqual({ name: 'RealtimeError', code: 'http', message: 'Server answered 404', status: 404 });
    expect(cloned instanceof RealtimeError).toBe(false);
    expect(isRealtimeError(cloned)).toBe(true);
    expect(isRealtimeError({ name: 'RealtimeError', code: 'network', message: 'x' })).toBe(true);
  });

  it('rejects look-alikes', () => {
    expect(isRealtimeError(new Error('x'))).toBe(false);
    expect(isRealtimeError(structuredClone(new RealtimeError('network', 'x')))).toBe(false); // clone of the Error itself loses code
    expect(isRealtimeError({ code: 'network', message: 'x' })).toBe(false);
    expect(isRealtimeError({ name: 'RealtimeError', code: 1, message: 'x' })).toBe(false);
    expect(isRealtimeError(null)).toBe(false);
    expect(isRealtimeError('RealtimeError')).toBe(false);
  });
});

describe('credentialsKeyOf', () => {
  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const jwt = (payload: Record<string, unknown>) => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
  const signed = (payload: Record<string, unknown>, sig: string) => `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}.${sig}`;

  it('two JWTs of the same subject (a refreshed token) get the same key', () => {
    const first = credentialsKeyOf({ Authorization: `Bearer ${signed({ sub: 'user-1', iat: 1, exp: 100 }, 'c2lnbmF0dXJlMQ')}` });
    const refreshed = credentialsKeyOf({ Authorization: `Bearer ${signed({ sub: 'user-1', iat: 50, exp: 200, jti: 'x' }, 'c2lnbmF0dXJl')}` });
    expect(first).not.toBe('');
    expect(first).toBe(refreshed);
  });

  it('JWTs of different subjects (or issuers) get different keys', () => {
    const alice = credentialsKeyOf({ Authorization: `Bearer ${jwt({ sub: 'alice' })}` });
    const bob = credentialsKeyOf({ Authorization: `Bearer ${jwt({ sub: 'bob' })}` });
    const otherIssuer = credentialsKeyOf({ Authorization: `Bearer ${jwt({ sub: 'alice', iss: 'https://other' })}` });
    expect(alice).not.toBe(bob);
    expect(alice).not.toBe(otherIssuer);
  });

  it('keys do not contain the token', () => {
    const token = jwt({ sub: 'alice' });
    const key = credentialsKeyOf({ Authorization: `Bearer ${token}` });
    expect(key).not.toContain(token);
    expect(key).not.toContain('alice');
  });

  it('different opaque tokens get different keys; equal ones the same', () => {
    const a = credentialsKeyOf({ Authorization: 'Bearer opaque-aaa' });
    const b = credentialsKeyOf({ Authorization: 'Bearer opaque-bbb' });
    expect(a).not.toBe(b);
    expect(credentialsKeyOf({ authorization: 'Bearer opaque-aaa' })).toBe(a);
    expect(credentialsKeyOf({ 'X-Api-Key': 'k1' })).not.toBe(credentialsKeyOf({ 'X-Api-Key': 'k2' }));
  });

  it("no headers → ''", () => {
    expect(credentialsKeyOf({})).toBe('');
  });
});

describe('createRealtimeClient: the seams', () => {
  it("an event whose type is '*' reaches a '*' listener once", async () => {
    serve((req) => req.stream('event: *\nid: 1\ndata: 1\n\n'));
    const c = client();
    const seen: string[] = [];
    c.on('*', (msg) => seen.push(msg.lastEventId));
    await until(() => seen.length > 0, 'the event');
    await settle();
    expect(seen).toEqual(['1']);
  });

  it('status.lastEventId is where the stream stands, also after events of types the client does not listen to', async () => {
    serve((req) => req.stream('event: mine\nid: 1\ndata: 1\n\nevent: other\nid: 2\ndata: 2\n\nid: 3\n\n'));
    const c = client();
    c.on('mine', () => {});
    await until(() => c.status.lastEventId === '3', 'position 3');
  });

  it('every status.error is recognised by isRealtimeError, and survives structured clone', async () => {
    serve(() => new HttpResponse(null, { status: 503 }));
    const c = client();
    await until(() => c.status.state === 'reconnecting', 'reconnecting');
    expect(isRealtimeError(c.status.error)).toBe(true);
    expect(structuredClone(c.status.error)).toEqual(c.status.error);
    expect(c.status.error).toMatchObject({ code: 'http', status: 503, message: expect.stringContaining(BASE) });
  });

  it('close() ends the request at once in sharing none: no grace period', async () => {
    serve((req) => req.stream());
    const c = client();
    await until(() => requests.length === 1 && c.status.state === 'open', 'open');
    c.close();
    await settle();
    expect(requests[0]!.signal.aborted).toBe(true);
  });

  it('provider answers: a Headers instance and [name, value] pairs are accepted, anything else is a headers error', async () => {
    serve((req) => req.stream());
    const a = client({ headers: async () => new Headers({ 'X-From': 'headers' }) });
    const b = client({ headers: async () => [['X-From', 'pairs']] as [string, string][] });
    await until(() => requests.length === 2, 'two requests');
    expect(requests.map((r) => r.headers.get('x-from')).sort()).toEqual(['headers', 'pairs']);
    const bad = client({ headers: (async () => 'Bearer x') as never });
    await until(() => bad.status.state === 'reconnecting', 'reconnecting');
    expect(bad.status.error).toMatchObject({ code: 'headers', message: expect.stringMatching(/got a string/) });
    expect(requests).toHaveLength(2);
    for (const x of [a, b]) expect(x.status.state).toBe('open');
  });

  it('a provider that never answers at start-up is reported as a headers error after headersTimeoutMs, and asked again', async () => {
    serve((req) => req.stream());
    let calls = 0;
    const c = client({ headers: () => (++calls === 1 ? new Promise(() => {}) : { A: '1' }), headersTimeoutMs: 2000, backoff: { initialMs: 100, maxMs: 100 } });
    await vi.advanceTimersByTimeAsync(2000);
    await until(() => c.status.state === 'reconnecting', 'reconnecting');
    expect(c.status.error).toMatchObject({ code: 'headers' });
    await vi.advanceTimersByTimeAsync(100);
    await until(() => c.status.state === 'open', 'open');
    expect(calls).toBe(2);
  });

  it('headersTimeoutMs past what a timer holds (2^31 ms): a provider that answers in 30 ms gives the request its headers', async () => {
    serve((req) => req.stream());
    const c = client({ headers: () => new Promise((resolve) => setTimeout(() => resolve({ A: '1' }), 30)), headersTimeoutMs: 2 ** 31 });
    await vi.advanceTimersByTimeAsync(30);
    await until(() => c.status.state === 'open', 'open');
    expect(requests.map((r) => r.headers.get('a'))).toEqual(['1']);
    expect(c.status.error).toBeUndefined();
  });

  it('an answer of other credentials moves the client to their stream, carrying that answer to its first request', async () => {
    serve((req) => req.stream());
    const token = (sub: string) => `Bearer h.${btoa(JSON.stringify({ sub })).replace(/=+$/, '')}.s`;
    let who = 'alice';
    const c = client({ headers: async () => ({ Authorization: token(who) }), backoff: { initialMs: 100, maxMs: 100 } });
    await until(() => requests.length === 1 && c.status.state === 'open', 'open as alice');
    who = 'bob';
    requests[0]!.drop();
    await vi.advanceTimersByTimeAsync(100);
    await until(() => requests.length === 2 && c.status.state === 'open', 'open as bob');
    expect(requests.map((r) => r.headers.get('authorization'))).toEqual([token('alice'), token('bob')]);
  });
});

describe('credentialsKeyOf', () => {
  const part = (value: object) => btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  const jwt = (claims: object) => `Bearer ${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.s`;

  it('a refreshed token of one identity keeps the key (iat, exp, nbf, jti do not count)', () => {
    const a = credentialsKeyOf({ Authorization: jwt({ iss: 'i', sub: 'alice', scope: 'read', iat: 1, exp: 2, nbf: 1, jti: 'a' }) });
    const b = credentialsKeyOf({ Authorization: jwt({ iss: 'i', sub: 'alice', scope: 'read', iat: 9, exp: 99, nbf: 9, jti: 'b' }) });
    expect(a).toBe(b);
  });

  it('another user, tenant claim, scope or header changes it', () => {
    const base = { iss: 'i', sub: 'alice', scope: 'read' };
    const key = (claims: object, extra: Record<string, string> = {}) => credentialsKeyOf({ Authorization: jwt(claims), ...extra });
    const keys = [
      key(base),
      key({ ...base, sub: 'bob' }),
      key({ ...base, scope: 'admin' }),
      key({ ...base, tenant: 'acme' }),
      key(base, { 'X-Tenant': 'acme' }),
    ];
    expect(new Set(keys).size).toBe(5);
  });

  it('header names count case-insensitively; no headers is the empty key', () => {
    expect(credentialsKeyOf({ 'X-A': '1' })).toBe(credentialsKeyOf({ 'x-a': '1' }));
    expect(credentialsKeyOf({})).toBe('');
  });
});

describe('createRealtimeClient: topics', () => {
  it('names its topics in the query, gets msg.topic with the topic line taken off the data, and setTopics reconnects once from the cursor', async () => {
    serve((req) => {
      const topics = req.url.searchParams.getAll('topic');
      if (!req.headers.get('last-event-id')) return req.stream('id: 1-4\n\nid: 1-5\ndata: news\ndata: {"n":5}\n\n');
      return req.stream(topics.includes('jobs') ? 'id: 1-6\nevent: progress\ndata: jobs\ndata: {"n":6}\n\n' : '');
    });
    const c = client({ topics: ['news'] });
    const got: RealtimeMessage[] = [];
    c.on('*', (m) => got.push(m));
    await until(() => got.length === 1, 'the news event');
    expect(requests[0]!.url.searchParams.getAll('topic')).toEqual(['news']);
    expect(got[0]).toEqual({ type: 'message', data: { n: 5 }, text: '{"n":5}', lastEventId: '1-5', topic: 'news' });
    c.setTopics(['news', 'jobs']);
    await vi.advanceTimersByTimeAsync(50);
    await until(() => got.length === 2, 'the jobs event');
    expect(requests).toHaveLength(2);
    expect(requests[1]!.url.searchParams.getAll('topic')).toEqual(['jobs', 'news']);
    expect(requests[1]!.headers.get('last-event-id')).toBe('1-5');
    expect(got[1]).toMatchObject({ type: 'progress', topic: 'jobs', data: { n: 6 } });
  });

  it('topic names are checked; setTopics needs a topic client', () => {
    expect(() => client({ topics: ['ok', ''] })).toThrow(/not a topic name/);
    expect(() => client({ topics: ['a\nb'] })).toThrow(/not a topic name/);
    // Half an emoji, as .slice() leaves it: its URL would carry U+FFFD, another topic.
    expect(() => client({ topics: ['😀room'.slice(1)] })).toThrow(/not a topic name/);
    expect(() => client({ topics: ['room😀'] }).close()).not.toThrow();
    expect(() => client({ topics: 'a' as never })).toThrow(/array/);
    expect(() => client({ topics: ['a'], method: 'POST', body: 'x' })).toThrow(/topics and body/);
    expect(() => client().setTopics(['a'])).toThrow(/topics option/);
    expect(() => client({ topics: [] }).setTopics([''])).toThrow(/setTopics/);
  });
});

describe('createRealtimeClient: adoption', () => {
  it('an unknown option is an invalid-options error naming the closest valid one', () => {
    const url = 'http://127.0.0.1:9/unknown';
    const message = (options: object) => {
      try {
        createRealtimeClient({ url, sharing: 'none', inert: false, ...options } as RealtimeClientOptions).close();
      } catch (error) {
        expect(isRealtimeError(error) && error.code).toBe('invalid-options');
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(message({ workerURL: '/w.js' })).toBe('ssemux: unknown option workerURL; did you mean workerUrl?');
    expect(message({ heartbeatTimeout: 1000 })).toBe('ssemux: unknown option heartbeatTimeout; did you mean heartbeatTimeoutMs?');
    expect(message({ credentialKey: 'a' })).toBe('ssemux: unknown option credentialKey; did you mean credentialsKey?');
    expect(message({ signal: new AbortController().signal, debug: () => {} })).toBe('accepted');
    expect(message({ debug: 'yes' })).toMatch(/debug must be/);
    expect(message({ signal: {} })).toMatch(/signal must be an AbortSignal/);
  });

  it('fixed headers that are not headers: closed with invalid-options, and no request', async () => {
    const c = client({ headers: 'Bearer abc' as never });
    await until(() => c.status.state === 'closed', 'closed');
    expect(c.status.error).toMatchObject({ name: 'RealtimeError', code: 'invalid-options' });
    expect(c.status.error!.message).toMatch(/headers/);
    expect(requests).toHaveLength(0);
  });

  it("a parse error names the URL and, with parse 'json', says how to switch to text", async () => {
    const url = nextUrl();
    serve((req) => req.stream('id: 7\ndata: hello world\n\n'));
    const c = client({ url });
    c.on('message', () => {});
    await until(() => c.status.error?.code === 'parse', 'a parse error');
    expect(c.status.error!.message).toContain(url);
    expect(c.status.error!.message).toContain("parse: 'text'");
  });

  it('the signal option closes the client; an aborted signal closes it at once, before any request', async () => {
    serve((req) => req.stream('data: 1\n\n'));
    const controller = new AbortController();
    const c = client({ signal: controller.signal });
    await until(() => c.status.state === 'open', 'open');
    controller.abort();
    expect(c.status.state).toBe('closed');
    await settle();
    expect(requests.every((r) => r.signal.aborted)).toBe(true);
    const before = requests.length;
    const late = client({ signal: AbortSignal.abort() });
    expect(late.status.state).toBe('closed');
    await settle();
    expect(requests).toHaveLength(before);
  });

  it('on() takes a signal: aborting it stops that listener only', async () => {
    serve((req) => req.stream());
    const c = client();
    const controller = new AbortController();
    const a: unknown[] = [];
    const b: unknown[] = [];
    c.on('message', (m) => a.push(m.data), { signal: controller.signal });
    c.on('message', (m) => b.push(m.data));
    c.on('message', () => a.push('never'), { signal: AbortSignal.abort() });
    await until(() => c.status.state === 'open', 'open');
    requests[0]!.send('data: 1\n\n');
    await until(() => b.length === 1, 'first event');
    controller.abort();
    requests[0]!.send('data: 2\n\n');
    await until(() => b.length === 2, 'second event');
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
  });

  it("debug logs state changes and the sharing mode's fallback reasons", async () => {
    serve((req) => req.stream('data: 1\n\n'));
    const lines: string[] = [];
    const c = client({ debug: (message) => lines.push(message) });
    await until(() => c.status.state === 'open', 'open');
    expect(lines.some((line) => line.startsWith('open none/fetch'))).toBe(true);
  });

  it('an inert client (a server render) opens nothing, accepts a relative URL, and says connecting until closed', async () => {
    const c = createRealtimeClient({ url: '/events', workerUrl: '/ssemux-worker.js' });
    const seen: unknown[] = [];
    c.on('*', (m) => seen.push(m));
    await settle();
    expect(c.status).toEqual({ state: 'connecting', reason: 'started', transport: 'fetch', sharing: 'none', attempt: 0, lastEventId: '' });
    expect(requests).toHaveLength(0);
    c.close();
    expect(c.status.state).toBe('closed');
    expect(seen).toEqual([]);
  });
});

describe('createRealtimeClient: what tabs share (one hub for the clients of a page here)', () => {
  it('latest: true calls a new listener at once with the last event of its type, marked latest, then live ones', async () => {
    serve((req) => req.stream());
    const url = nextUrl();
    const first = client({ url, parse: 'text' });
    const seen: string[] = [];
    first.on('price', (m) => seen.push(m.text), { latest: true });
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    requests[0]!.send('event: price\nid: 1\ndata: 10\n\nevent: price\nid: 2\ndata: 11\n\nevent: other\nid: 3\ndata: x\n\n');
    await until(() => seen.length === 2, 'two prices');
    // A second client of the stream (here: of the page's own hub) asks for the last price.
    const second = client({ url, parse: 'text' });
    const got: RealtimeMessage[] = [];
    second.on('price', (m) => got.push(m), { latest: true });
    await until(() => got.length === 1, 'the last price');
    expect(got[0]).toEqual({ type: 'price', data: '11', text: '11', lastEventId: '2', latest: true });
    requests[0]!.send('event: price\nid: 4\ndata: 12\n\n');
    await until(() => got.length === 2, 'a live price');
    expect(got[1]).toEqual({ type: 'price', data: '12', text: '12', lastEventId: '4' });
    // Without the option, nothing from before.
    const plain = client({ url, parse: 'text' });
    const none: string[] = [];
    plain.on('price', (m) => none.push(m.text));
    await settle();
    expect(none).toEqual([]);
  });

  it("tabs: 'one' runs a listener once per event in the page that takes it; the other listeners as always; client.tabs counts this tab", async () => {
    serve((req) => req.stream());
    const url = nextUrl();
    const c = client({ url, parse: 'text' });
    const once: string[] = [];
    const all: string[] = [];
    const counts: unknown[] = [];
    c.on('notify', (m) => once.push(m.lastEventId), { tabs: 'one' });
    c.on('notify', (m) => all.push(m.lastEventId));
    c.onTabs((tabs) => counts.push(tabs));
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    requests[0]!.send('event: notify\nid: 1\ndata: a\n\nevent: notify\nid: 2\ndata: b\n\n');
    await until(() => once.length === 2 && all.length === 2, 'both kinds of listeners');
    expect(once).toEqual(['1', '2']);
    expect(all).toEqual(['1', '2']);
    expect(c.tabs).toEqual({ count: 1, visible: 1 });
    expect(counts).toEqual([{ count: 1, visible: 1 }]);
  });

  it("presence goes to the listeners that name ssemux:presence, beside a '*' listener that does not get it", async () => {
    serve((req) => req.stream());
    const c = client({ url: nextUrl(), parse: 'text', topics: ['room'] });
    const every: string[] = [];
    const presence: RealtimeMessage[] = [];
    c.on('*', (m) => every.push(m.type));
    c.on('ssemux:presence', (m) => presence.push(m));
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    expect(requests[0]!.url.searchParams.get('presence')).toBe('1');
    requests[0]!.send('event: msg\nid: 1\ndata: room\ndata: hi\n\nevent: ssemux:presence\ndata: room\ndata: {"members":[{"user":"alice","browsers":1}],"anonymous":0}\n\n');
    await until(() => presence.length === 1, 'the presence event');
    expect(presence[0]).toMatchObject({ type: 'ssemux:presence', topic: 'room', text: '{"members":[{"user":"alice","browsers":1}],"anonymous":0}' });
    expect(every).toEqual(['msg']);
  });
});

describe('createRealtimeClient: latest: true with several last events, and presence', () => {
  it('a new latest listener hears the last event of EACH topic it reads (one per type and topic)', async () => {
    serve((req) => req.stream());
    const url = nextUrl();
    const first = client({ url, parse: 'text', topics: ['job1', 'job2'] });
    first.on('progress', () => {}, { latest: true });
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    requests[0]!.send('event: progress\nid: 1\ndata: job1\ndata: 10\n\nevent: progress\nid: 2\ndata: job2\ndata: 20\n\n');
    await settle();
    const second = client({ url, parse: 'text', topics: ['job1', 'job2'] });
    const got: string[] = [];
    second.on('progress', (m) => got.push(`${m.topic}=${m.text}${m.latest ? ' (latest)' : ''}`), { latest: true });
    await until(() => got.length >= 1, 'a latest event');
    await settle();
    expect(got).toEqual(['job1=10 (latest)', 'job2=20 (latest)']);
  });

  it("a presence listener with latest: true hears the next live presence change", async () => {
    serve((req) => req.stream());
    const url = nextUrl();
    const first = client({ url, parse: 'text', topics: ['room'] });
    first.on('ssemux:presence', () => {}, { latest: true });
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    requests[0]!.send('event: msg\nid: 1\ndata: room\ndata: hi\n\nevent: ssemux:presence\ndata: room\ndata: {"members":[{"user":"alice","browsers":1}],"anonymous":0}\n\n');
    await settle();
    const second = client({ url, parse: 'text', topics: ['room'] });
    const got: string[] = [];
    second.on('ssemux:presence', (m) => got.push(`${(JSON.parse(m.text) as { members: { user: string }[] }).members.map((x) => x.user).join(',')}${m.latest ? ' (latest)' : ''}`), { latest: true });
    await until(() => got.length === 1, 'the latest presence');
    // Bob joins the room: a live presence event, no event of the log in between.
    requests[0]!.send('event: ssemux:presence\ndata: room\ndata: {"members":[{"user":"alice","browsers":1},{"user":"bob","browsers":1}],"anonymous":0}\n\n');
    await settle();
    expect(got).toEqual(['alice (latest)', 'alice,bob']);
  });

  it("on a plain stream, a '*' listener with latest: true hears the last event of each type, not only the first", async () => {
    serve((req) => req.stream());
    const url = nextUrl();
    const first = client({ url, parse: 'text' });
    first.on('a', () => {}, { latest: true });
    first.on('b', () => {}, { latest: true });
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    requests[0]!.send('event: a\nid: 1\ndata: A\n\nevent: b\nid: 2\ndata: B\n\n');
    await settle();
    const second = client({ url, parse: 'text' });
    const got: string[] = [];
    second.on('*', (m) => got.push(`${m.type}=${m.text}${m.latest ? ' (latest)' : ''}`), { latest: true });
    await until(() => got.length >= 1, 'a latest event');
    await settle();
    expect(got).toEqual(['a=A (latest)', 'b=B (latest)']);
  });
});

describe('createRealtimeClient: latest: true and live events of the same delivery', () => {
  it('a latest listener added while two events of its type are on their way ends at the newest value, not an older one', async () => {
    serve((req) => req.stream());
    const url = nextUrl();
    const first = client({ url, parse: 'text' });
    first.on('price', () => {}, { latest: true });
    await until(() => requests.length === 1 && requests[0]!.live, 'the stream');
    requests[0]!.send('event: price\nid: 1\ndata: 9\n\n');
    await settle();
    const second = client({ url, parse: 'text' });
    second.on('other', () => {});
    await settle();
    const got: string[] = [];
    second.on('price', (m) => got.push(`${m.text}${m.latest ? ' (latest)' : ''}`), { latest: true });
    // Two prices reach the hub before its next flush.
    requests[0]!.send('event: price\nid: 2\ndata: 10\n\nevent: price\nid: 3\ndata: 11\n\n');
    await until(() => got.some((g) => g.startsWith('11')), 'the newest price');
    await settle(10);
    // What the listener heard last is the current price.
    expect(got.at(-1)).toMatch(/^11/);
  });
});

describe('createRealtimeClient: a provider that answers another user', () => {
  it("does not carry the old user's position into the new user's shared stream (its other tabs lose nothing)", async () => {
    serve((req) => req.stream());
    const url = nextUrl();
    // A tab of bob (here: a client of the page's own hub, as a tab of the worker's).
    const bob = client({ url, parse: 'text', headers: async () => ({ Authorization: 'Bearer bob' }), backoff: { initialMs: 100, maxMs: 100 } });
    const bobGot: string[] = [];
    bob.on('msg', (m) => bobGot.push(m.lastEventId));
    await until(() => requests.length === 1 && requests[0]!.live, "bob's stream");
    const bobStream = requests[0]!;
    bobStream.send('event: msg\nid: 1\ndata: b1\n\nevent: msg\nid: 2\ndata: b2\n\n');
    await until(() => bobGot.length === 2, "bob's first events");

    // Another tab, signed in as alice, whose stream has ids of its own.
    let who = 'alice';
    const switcher = client({ url, parse: 'text', headers: async () => ({ Authorization: `Bearer ${who}` }), backoff: { initialMs: 100, maxMs: 100 } });
    const switcherGot: string[] = [];
    switcher.on('msg', (m) => switcherGot.push(`${m.text}`));
    await until(() => requests.length === 2 && requests[1]!.live, "alice's stream");
    requests[1]!.send('event: msg\nid: 700\ndata: a700\n\nevent: msg\nid: 701\ndata: a701\n\n');
    await until(() => switcherGot.length === 2, "alice's events");

    // Logout/login as bob in that tab: its next attempt answers bob's token.
    who = 'bob';
    requests[1]!.drop();
    await vi.advanceTimersByTimeAsync(150);
    await settle(10);

    // Bob's upstream goes on; the server sends bob's next event.
    const live = requests.filter((r) => r.live && r.headers.get('authorization') === 'Bearer bob');
    const lastEventIds = requests.filter((r) => r.headers.get('authorization') === 'Bearer bob').map((r) => r.headers.get('last-event-id'));
    for (const r of live) r.send('event: msg\nid: 3\ndata: b3\n\n');
    await settle(10);
    // Bob's tab, which stood at id 2, hears event 3.
    expect(bobGot).toEqual(['1', '2', '3']);
    // Bob's upstream was never asked to resume after alice's id 701.
    expect(lastEventIds).not.toContain('701');
  });
});
