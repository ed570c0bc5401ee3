import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fetchEventSource, type EventSourceMessage, type FetchEventSourceInit } from '../../../src/eventsource/index.js';
import { isRealtimeError } from '../../../src/index.js';
import { createSseMock } from '../../support/sse-mock.js';

// What the browser tests cannot reach easily: ordering around an async onopen, a refused 200,
// onmessage throwing, and the requests the client cannot make. In this tab (sharing 'none'),
// against msw, with real timers.

const BASE = 'http://127.0.0.1:9/fes';
const { server, requests, serve } = createSseMock(`${BASE}/*`);
let counter = 0;
const controllers: AbortController[] = [];

/** A fresh URL per test: the in-tab hub keys streams by URL. */
const nextUrl = () => `${BASE}/${++counter}`;

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** fetchEventSource in this tab, aborted after the test. */
function run(init: Partial<FetchEventSourceInit> = {}, url = nextUrl()) {
  const controller = new AbortController();
  controllers.push(controller);
  const calls: string[] = [];
  const messages: EventSourceMessage[] = [];
  let settled: string | undefined;
  const promise = fetchEventSource(url, {
    sharing: 'none',
    signal: controller.signal,
    onmessage: (m) => {
      messages.push(m);
      calls.push(`message ${m.data}`);
    },
    ...init,
  });
  promise.then(
    () => (settled = 'resolved'),
    (error: unknown) => (settled = `rejected: ${(error as Error).message}`),
  );
  return { calls, messages, controller, promise, settled: () => settled };
}

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  await import('../../../src/client/fallback-order.js');
  await import('../../../src/client/credentials.js');
});
// A client in Node without a window is inert (server-side rendering): these run as in a browser.
beforeEach(() => {
  vi.stubGlobal('window', globalThis);
  requests.length = 0;
});
afterEach(async () => {
  for (const c of controllers.splice(0)) c.abort();
  await until(() => requests.every((r) => r.signal.aborted), 'requests closed');
  vi.unstubAllGlobals();
  server.resetHandlers();
});
afterAll(() => server.close());

describe('fetchEventSource', () => {
  it('a 200 of another content type (a login page) is no event stream to onopen: the default one refuses it, onerror retries', async () => {
    serve(() => new Response('<html>login</html>', { status: 200, headers: { 'content-type': 'text/html' } }));
    const seen: (string | null)[] = [];
    const custom = run({
      onopen: async (response) => {
        seen.push(response.headers.get('content-type'));
        if (!response.headers.get('content-type')?.startsWith('text/event-stream')) throw new Error('not a stream');
      },
      onclose: () => void custom.calls.push('close'),
      onerror: (error) => (custom.calls.push(`error ${(error as Error).message}`), 60_000),
    });
    const byDefault = run({ onclose: () => void byDefault.calls.push('close'), onerror: () => (byDefault.calls.push('error'), 60_000) });
    await until(() => custom.calls.length > 0 && byDefault.calls.length > 0, 'onerror or onclose');
    expect(seen).toEqual([null]);
    expect(custom.calls).toEqual(['error not a stream']);
    expect(byDefault.calls).toEqual(['error']);
    expect([custom.settled(), byDefault.settled()]).toEqual([undefined, undefined]);
  });

  it('holds the events back until an async onopen resolves, as the original reads the body only then', async () => {
    serve((req) => req.stream('id: 1\ndata: a\n\nid: 2\nevent: named\ndata: b\n\n'));
    let release!: () => void;
    const r = run({
      onopen: (response) => {
        r.calls.push(`open ${response.status} ${response.headers.get('content-type')}`);
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    await until(() => r.calls.length === 1, 'onopen');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.calls).toEqual(['open 200 text/event-stream']);
    release();
    await until(() => r.messages.length === 2, 'the events');
    expect(r.messages).toEqual([
      { id: '1', event: '', data: 'a', retry: undefined },
      { id: '2', event: 'named', data: 'b', retry: undefined },
    ]);
  });

  it('onmessage throwing goes to onerror, and the stream goes on without a new request', async () => {
    serve((req) => req.stream('id: 1\ndata: bad\n\nid: 2\ndata: good\n\n'));
    const errors: unknown[] = [];
    const r = run({
      onmessage: (m) => {
        r.calls.push(`message ${m.data}`);
        if (m.data === 'bad') throw new Error('bad event');
      },
      onerror: (error) => void errors.push((error as Error).message),
    });
    await until(() => r.calls.length === 2, 'both events');
    expect(r.calls).toEqual(['message bad', 'message good']);
    expect(errors).toEqual(['bad event']);
    expect(requests).toHaveLength(1);
  });

  it("onopen refusing a 200: onerror's interval, then a new request resuming after the last event handed over", async () => {
    serve((req, i) => {
      if (i === 0) {
        // A network drop after the first event: the client reconnects by itself.
        setTimeout(() => req.drop(), 20);
        return req.stream('id: 7\ndata: first\n\n');
      }
      return i === 1 ? req.stream('id: 8\ndata: of the refused response\n\n') : req.stream('id: 8\ndata: second\n\n');
    });
    let opens = 0;
    const errors: string[] = [];
    const r = run({
      onopen: async () => {
        if (++opens === 2) throw new Error('not this one');
      },
      onerror: (error) => {
        errors.push((error as Error).message);
        return 20;
      },
    });
    await until(() => r.messages.length === 2, 'the event of the third request', 5000);
    expect(r.messages.map((m) => m.data)).toEqual(['first', 'second']);
    expect(errors).toEqual([expect.any(String), 'not this one']);
    expect(requests).toHaveLength(3);
    expect(requests.map((q) => q.headers.get('last-event-id'))).toEqual([null, '7', '7']);
  });

  it('a response onopen accepts although it failed: its (empty) body ends, so onclose runs and the promise resolves', async () => {
    serve(() => new Response(null, { status: 503 }));
    const statuses: number[] = [];
    const r = run({ onopen: async (response) => void statuses.push(response.status), onclose: () => void r.calls.push('close') });
    await until(() => r.settled() !== undefined, 'settled');
    expect(statuses).toEqual([503]);
    expect(r.calls).toEqual(['close']);
    expect(r.settled()).toBe('resolved');
  });

  it('the first request resumes from a Last-Event-ID header given in the options; Accept is the client\'s', async () => {
    serve((req) => req.stream());
    run({ headers: { 'last-event-id': '41', Accept: 'application/json', 'X-Trace': 't' }, onopen: async () => {} });
    await until(() => requests.length === 1, 'the request');
    expect(requests[0]!.headers.get('last-event-id')).toBe('41');
    expect(requests[0]!.headers.get('accept')).toBe('text/event-stream');
    expect(requests[0]!.headers.get('x-trace')).toBe('t');
  });

  it("a relative URL resolves against the document's base URL (a <base href>), as fetch's does; onopen's Response shows it", async () => {
    serve((req) => req.stream());
    vi.stubGlobal('document', { baseURI: `${BASE}/based/`, hidden: false, visibilityState: 'visible', addEventListener() {}, removeEventListener() {} });
    vi.stubGlobal('location', { href: 'http://127.0.0.1:9/elsewhere/page.html' });
    const urls: string[] = [];
    run({ onopen: async (response) => void urls.push(response.url) }, `${++counter}?x=1`);
    await until(() => requests.length === 1 && urls.length === 1, 'the request and onopen');
    expect(requests[0]!.url.href).toBe(`${BASE}/based/${counter}?x=1`);
    expect(urls).toEqual([`${BASE}/based/${counter}?x=1`]);
  });

  it('a POST with URLSearchParams sends the form, with the content type fetch would give it', async () => {
    serve((req) => req.stream());
    run({ method: 'post', body: new URLSearchParams({ q: 'a b' }), onopen: async () => {} });
    await until(() => requests.length === 1, 'the request');
    expect(requests[0]!.method).toBe('POST');
    expect(await requests[0]!.body).toBe('q=a+b');
    expect(requests[0]!.headers.get('content-type')).toBe('application/x-www-form-urlencoded;charset=UTF-8');
  });

  it('a Request as input: its URL, method, headers and body', async () => {
    serve((req) => req.stream());
    const url = nextUrl();
    const controller = new AbortController();
    controllers.push(controller);
    void fetchEventSource(new Request(url, { method: 'POST', body: '{"q":1}', headers: { 'X-From': 'request' } }), { sharing: 'none', signal: controller.signal, onopen: async () => {} });
    await until(() => requests.length === 1, 'the request');
    expect(requests[0]!.url.href).toBe(url);
    expect(requests[0]!.method).toBe('POST');
    expect(await requests[0]!.body).toBe('{"q":1}');
    expect(requests[0]!.headers.get('x-from')).toBe('request');
  });

  it('rejects what the client cannot send, with invalid-options, before any request', async () => {
    serve((req) => req.stream());
    for (const init of [{ method: 'PUT' }, { method: 'POST', body: new Blob(['x']) }, { fetch: async () => new Response() }] as Partial<FetchEventSourceInit>[]) {
      const error = await fetchEventSource(nextUrl(), init as FetchEventSourceInit).catch((e: unknown) => e);
      expect(isRealtimeError(error) && error.code).toBe('invalid-options');
    }
    expect(requests).toHaveLength(0);
  });

  it('an aborted signal resolves at once, without a request', async () => {
    serve((req) => req.stream());
    await expect(fetchEventSource(nextUrl(), { signal: AbortSignal.abort() })).resolves.toBeUndefined();
    expect(requests).toHaveLength(0);
  });
});

// Ids of any text, and the blocks without data that 2.0.1 hands to onmessage and the shared
// stream does not (README: "Migrating", fetch-event-source).

/** The header value whose characters are the UTF-8 bytes of `text`. */
const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('fetchEventSource: ids of any text', () => {
  it('a Last-Event-ID header given as UTF-8 bytes resumes from that id, sent back as the same bytes', async () => {
    serve((req, i) => (i === 0 ? req.stream('data: a\n\n') : req.stream()));
    const { messages } = run({ headers: { 'Last-Event-ID': utf8Bytes('注文-2') }, onopen: async () => {} });
    await until(() => messages.length === 1, 'the event');
    expect(requests[0]!.headers.get('last-event-id')).toBe(utf8Bytes('注文-2'));
    // The event has no id of its own: '' as with 2.0.1.
    expect(messages[0]).toMatchObject({ id: '', data: 'a' });
  });

  it('an event id of any text reaches onmessage as text', async () => {
    serve((req) => req.stream('id: 注文-3 🎉\ndata: b\n\n'));
    const { messages } = run({ onopen: async () => {} });
    await until(() => messages.length === 1, 'the event');
    expect(messages[0]).toMatchObject({ id: '注文-3 🎉', data: 'b' });
  });
});

describe('fetchEventSource: resuming a new request after an id of any text', () => {
  it('onopen refusing a stream: the new request resumes after the id handed over, as its UTF-8 bytes', async () => {
    serve((req, i) => {
      if (i === 0) {
        // A network drop after the first event: the client reconnects by itself.
        setTimeout(() => req.drop(), 20);
        return req.stream('id: 注文-4\ndata: first\n\n');
      }
      return i === 1 ? req.stream('id: 注文-5\ndata: of the refused response\n\n') : req.stream('data: second\n\n');
    });
    const controller = new AbortController();
    controllers.push(controller);
    const messages: EventSourceMessage[] = [];
    let opens = 0;
    void fetchEventSource(nextUrl(), {
      sharing: 'none',
      signal: controller.signal,
      onopen: async () => {
        // The reconnection's stream is refused: a new request starts, after the last event handed over.
        if (++opens === 2) throw new Error('refused');
      },
      onmessage: (m) => messages.push(m),
      onerror: () => 20,
    });
    await until(() => messages.length === 2, 'the event of the third request', 5000);
    expect(messages.map((m) => m.data)).toEqual(['first', 'second']);
    expect(requests.map((r) => r.headers.get('last-event-id'))).toEqual([null, utf8Bytes('注文-4'), utf8Bytes('注文-4')]);
  });
});

describe('fetchEventSource: blocks without data', () => {
  it('onmessage is called for events, not for a block with only retry:, only id:, a comment or nothing', async () => {
    serve((req) => req.stream('retry: 5000\n\nid: 7\n\n: heartbeat\n\n\n\ndata: x\n\n'));
    const { messages } = run({ onopen: async () => {} });
    await until(() => messages.length === 1, 'the event');
    await new Promise((r) => setTimeout(r, 50));
    // 2.0.1 would call onmessage five times before this one (README says why not here).
    expect(messages).toEqual([{ id: '7', event: '', data: 'x', retry: undefined }]);
  });
});
