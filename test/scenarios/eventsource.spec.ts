import { login, postJson, publishOne, recordRequests, startServer, stats, type DemoServer } from '../support/test-server.js';
import type { Context, Tab } from './engine.js';
import { expect, test } from './fixtures.js';

// ssemux/eventsource against the platform: the same scenario, on the same server, for the
// platform's EventSource and for SharedEventSource (and EventSourcePolyfill), asserting the same
// observable sequence: events with their type, data and lastEventId, open and error events, and
// readyState at each. Each side reads a stream of its own (`stream=<name>-<side>`), so that a
// fault queued for one is taken by that side's request only; both get the same events.

type Entry = { event: string; readyState: number; data?: string; lastEventId?: string; origin?: string; message?: boolean; status?: number; at: number };
type Side = 'native' | 'shared' | 'polyfill';

/** The page's recorder (pages/eventsource.html). */
type Recorder = {
  open(kind: Side, url: string, init?: object, types?: string[]): number;
  log(i: number): Entry[];
  readyState(i: number): number;
  close(i: number): void;
  props(i: number): object;
  fetch(url: string, o?: object): number;
  fetchLog(i: number): Call[];
  abort(i: number): void;
  hide(value: boolean): void;
};
declare const es: Recorder;
declare const esReady: boolean | undefined;

async function openPage(context: Context, server: DemoServer): Promise<Tab> {
  const page = await context.openTab(`${server.url}/eventsource.html`);
  await expect.poll(() => page.evaluate(() => typeof esReady !== 'undefined' && esReady === true)).toBe(true);
  return page;
}

const open = (page: Tab, kind: Side, url: string, init: object = {}, types: string[] = []): Promise<number> =>
  page.evaluate(([k, u, o, t]) => es.open(k, u, o, t), [kind, url, init, types] as const);
const log = (page: Tab, i: number): Promise<Entry[]> => page.evaluate((n) => es.log(n), i);
const post = (server: DemoServer, path: string, body: object): Promise<unknown> => postJson(server, path, body);

/**
 * Waits out `ms` in which nothing may happen: the wait is the assertion (no reconnection, no
 * request, no callback within it), not a stand-in for a condition.
 */
const quietFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every 50 ms (faster than expect.poll's back-off) until `check` passes, or fails after `timeout`. */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, timeout = 20_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * One side of a differential scenario: a source on its own stream, and the ids of the events
 * published to it, by which its log is made comparable to the other side's.
 */
class Lane {
  ids: string[] = [];
  index = -1;
  constructor(
    readonly page: Tab,
    readonly server: DemoServer,
    readonly side: Side,
    readonly stream: string,
  ) {}
  async open(init: object = {}, types: string[] = [], query = ''): Promise<void> {
    this.index = await open(this.page, this.side, `/events?stream=${this.stream}${query}`, init, types);
  }
  async publish(data: string, type?: string): Promise<void> {
    this.ids.push(await publishOne(this.server, { stream: this.stream, data, ...(type && { type }) }));
  }
  log(): Promise<Entry[]> {
    return log(this.page, this.index);
  }
  /** The log with ids as `#n` (the n-th event published to this lane) and without times. */
  async normalized(): Promise<Omit<Entry, 'at'>[]> {
    return (await this.log()).map(({ at: _at, ...e }) => (e.lastEventId === undefined ? e : { ...e, lastEventId: this.ids.includes(e.lastEventId) ? `#${this.ids.indexOf(e.lastEventId)}` : e.lastEventId }));
  }
  until(check: (log: Entry[]) => boolean, what: string, timeout?: number): Promise<Entry[]> {
    return until(() => this.log(), check, `${this.side} ${what}`, timeout);
  }
}

async function lanes(page: Tab, server: DemoServer, name: string, sides: Side[] = ['native', 'shared']): Promise<Lane[]> {
  return sides.map((side) => new Lane(page, server, side, `${name}-${side}`));
}

const count = (log: Entry[], event: string) => log.filter((e) => e.event === event).length;

test('normal events: the same types, data, ids, origin and readyStates as the platform; the same interface', async ({ context, server }) => {
  const page = await openPage(context, server);
  const both = await lanes(page, server, 'normal');
  // Right after construction, in the same task: CONNECTING, as the platform.
  const fresh = await page.evaluate(() => {
    const made = [es.open('native', '/events?stream=fresh'), es.open('shared', '/events?stream=fresh')];
    const props = made.map((i: number) => es.props(i));
    made.forEach((i: number) => es.close(i));
    return props;
  });
  expect(fresh[1]).toEqual(fresh[0]);
  expect(fresh[0]).toEqual({
    url: `${server.url}/events?stream=fresh`,
    withCredentials: false,
    readyState: 0,
    constants: [0, 1, 2, 0, 1, 2],
    eventTarget: true,
    handlers: ['function', 'function', 'function'],
    own: [],
  });
  const credentialed = await page.evaluate(() => {
    const made = [es.open('native', 'events?stream=fresh', { withCredentials: true }), es.open('shared', 'events?stream=fresh', { withCredentials: true })];
    made.forEach((i: number) => es.close(i));
    return made.map((i: number) => es.props(i));
  });
  expect(credentialed[1]).toEqual(credentialed[0]);
  expect(credentialed[0]).toMatchObject({ withCredentials: true, readyState: 2 });
  for (const lane of both) lane.index = await open(page, lane.side, `/events?stream=${lane.stream}`, {}, ['greet']);
  for (const lane of both) await lane.until((l) => count(l, 'open') === 1, 'open');
  for (const lane of both) {
    await lane.publish('one');
    await lane.publish('hello', 'greet');
    await lane.publish('nobody listens', 'ignored');
    await lane.publish('line 1\nline 2');
    await lane.publish('');
  }
  for (const lane of both) await lane.until((l) => l.length === 5, 'five entries');
  const [native, shared] = (await Promise.all(both.map((l) => l.normalized()))) as [Omit<Entry, 'at'>[], Omit<Entry, 'at'>[]];
  const origin = new URL(server.url).origin;
  expect(native).toEqual([
    { event: 'open', readyState: 1 },
    { event: 'message', data: 'one', lastEventId: '#0', origin, message: true, readyState: 1 },
    { event: 'greet', data: 'hello', lastEventId: '#1', origin, message: true, readyState: 1 },
    { event: 'message', data: 'line 1\nline 2', lastEventId: '#3', origin, message: true, readyState: 1 },
    { event: 'message', data: '', lastEventId: '#4', origin, message: true, readyState: 1 },
  ]);
  expect(shared).toEqual(native);

  // close(): CLOSED at once, no event, nothing more delivered.
  for (const lane of both) await page.evaluate((n) => es.close(n), lane.index);
  expect(await page.evaluate((n) => n.map((i) => es.readyState(i)), both.map((l) => l.index))).toEqual([2, 2]);
  // Probes on both streams tell when the next event has been delivered.
  const probes: number[] = [];
  for (const lane of both) probes.push(await open(page, 'native', `/events?stream=${lane.stream}`));
  for (const p of probes) await until(() => log(page, p), (l) => count(l, 'open') === 1, 'probe open');
  for (const lane of both) await lane.publish('after close');
  for (const p of probes) await until(() => log(page, p), (l) => l.length === 2, 'probe event');
  // The wait is the assertion: the closed sources get nothing in the 300 ms after the probes got it.
  await quietFor(300);
  for (const lane of both) expect((await lane.log()).length).toBe(5);
  await expect.poll(async () => (await stats(server)).perStream['normal-shared']?.open).toBe(1); // the probe's only
});

test('a clean end: error and CONNECTING, a reconnection resuming with Last-Event-ID, the server\'s retry: honoured', async ({ context, server }) => {
  const page = await openPage(context, server);
  const both = await lanes(page, server, 'end');
  for (const lane of both) await lane.open();
  for (const lane of both) await lane.until((l) => count(l, 'open') === 1, 'open');
  for (const lane of both) {
    await lane.publish('m1');
    await lane.publish('m2');
  }
  for (const lane of both) await lane.until((l) => l.length === 3, 'm1, m2');
  // The stream ends cleanly; the reconnection gets a 200 that ends at once and says retry: 2500.
  for (const lane of both) await post(server, '/faults', { kind: 'end', retry: 2500, stream: lane.stream });
  for (const lane of both) await post(server, '/faults/restart', { stream: lane.stream });
  for (const lane of both) await lane.until((l) => count(l, 'error') === 2, 'the second error');
  // Both wait out retry: 2500 now: what is published meanwhile comes only by resuming from m2.
  for (const lane of both) {
    await lane.publish('m3');
    await lane.publish('m4');
  }
  for (const lane of both) await lane.until((l) => l.length === 9, 'm3, m4');
  const [native, shared] = (await Promise.all(both.map((l) => l.normalized()))) as [Omit<Entry, 'at'>[], Omit<Entry, 'at'>[]];
  expect(native.map((e) => `${e.event}${e.readyState}${e.data ? `:${e.data}:${e.lastEventId}` : ''}`)).toEqual([
    'open1',
    'message1:m1:#0',
    'message1:m2:#1',
    'error0',
    'open1',
    'error0',
    'open1',
    'message1:m3:#2',
    'message1:m4:#3',
  ]);
  expect(shared).toEqual(native);
  for (const lane of both) {
    const l = await lane.log();
    const error = l.filter((e) => e.event === 'error')[1]!;
    const reopened = l.filter((e) => e.event === 'open')[2]!;
    expect(reopened.at - error.at, `${lane.side}: the wait after retry: 2500`).toBeGreaterThanOrEqual(2400);
  }
});

test('retry: below 1 s: the platform waits that long, SharedEventSource at least 1 s (a documented ssemux floor)', async ({ context, server }) => {
  const page = await openPage(context, server);
  const both = await lanes(page, server, 'short-retry');
  // The first request gets a 200 that says retry: 100 and ends.
  for (const lane of both) await post(server, '/faults', { kind: 'end', retry: 100, stream: lane.stream });
  for (const lane of both) await lane.open();
  for (const lane of both) await lane.until((l) => count(l, 'open') === 2, 'the reconnection');
  const [native, shared] = (await Promise.all(both.map((l) => l.log()))) as [Entry[], Entry[]];
  expect(native.map((e) => `${e.event}${e.readyState}`)).toEqual(['open1', 'error0', 'open1']);
  expect(shared.map((e) => `${e.event}${e.readyState}`)).toEqual(['open1', 'error0', 'open1']);
  const wait = (l: Entry[]) => l[2]!.at - l[1]!.at;
  expect(wait(native), 'the platform honours retry: 100').toBeGreaterThanOrEqual(80);
  expect(wait(native), 'the platform honours retry: 100').toBeLessThan(950);
  expect(wait(shared), 'ssemux waits at least 1 s after a clean end').toBeGreaterThanOrEqual(950);
});

test('a dropped connection (network error): error and CONNECTING, then open again, nothing lost', async ({ context, server }) => {
  const page = await openPage(context, server);
  const both = await lanes(page, server, 'drop');
  for (const lane of both) await lane.open();
  for (const lane of both) await lane.until((l) => count(l, 'open') === 1, 'open');
  for (const lane of both) await lane.publish('m1');
  for (const lane of both) await lane.until((l) => l.length === 2, 'm1');
  for (const lane of both) await post(server, '/faults/drop-all', { stream: lane.stream });
  for (const lane of both) await lane.publish('m2');
  for (const lane of both) await lane.until((l) => l.length === 5, 'm2');
  const [native, shared] = (await Promise.all(both.map((l) => l.normalized()))) as [Omit<Entry, 'at'>[], Omit<Entry, 'at'>[]];
  expect(native.map((e) => `${e.event}${e.readyState}${e.data ? `:${e.data}:${e.lastEventId}` : ''}`)).toEqual([
    'open1',
    'message1:m1:#0',
    'error0',
    'open1',
    'message1:m2:#1',
  ]);
  expect(shared).toEqual(native);
});

for (const [name, query, status] of [
  ['204 No Content', '&fault=status&status=204', 204],
  ['500', '&fault=status&status=500', 500],
  ['404', '&fault=status&status=404', 404],
  ['a 200 that is not text/event-stream', '&fault=content-type&contentType=text/html', 200],
] as const) {
  test(`${name}: the connection fails: one error, CLOSED, no reconnection`, async ({ context, server }) => {
    const page = await openPage(context, server);
    const all = await lanes(page, server, `fail-${status}`, ['native', 'shared', 'polyfill']);
    for (const lane of all) await lane.open({}, [], query);
    for (const lane of all) await lane.until((l) => l.length === 1, 'the error');
    const [native, shared, polyfill] = (await Promise.all(all.map((l) => l.normalized()))) as [Omit<Entry, 'at'>[], Omit<Entry, 'at'>[], Omit<Entry, 'at'>[]];
    expect(native).toEqual([{ event: 'error', readyState: 2 }]);
    expect(shared).toEqual(native);
    // event-source-polyfill's error event carries the response's status.
    expect(polyfill).toEqual([{ event: 'error', readyState: 2, status }]);
    const requests = (await stats(server)).requests;
    expect(requests).toBe(3);
    // The wait is the assertion: a reconnection would come within the server's retry (200 ms) or
    // the first backoff (1 s).
    await quietFor(1500);
    expect((await stats(server)).requests).toBe(requests);
    for (const lane of all) expect(await lane.log()).toHaveLength(1);
  });
}

test('two tabs of SharedEventSource share one upstream, and both get every event', async ({ context, server }) => {
  const pages = [await openPage(context, server), await openPage(context, server)];
  const tabs = pages.map((page) => new Lane(page, server, 'shared', 'pair'));
  for (const tab of tabs) await tab.open();
  for (const tab of tabs) await tab.until((l) => count(l, 'open') === 1, 'open');
  await expect.poll(async () => (await stats(server)).perStream.pair?.open).toBe(1);
  expect((await stats(server)).openStreams).toBe(1);
  await tabs[0]!.publish('to both');
  tabs[1]!.ids = tabs[0]!.ids;
  for (const tab of tabs) await tab.until((l) => l.length === 2, 'the event');
  for (const tab of tabs) expect((await tab.normalized())[1]).toMatchObject({ event: 'message', data: 'to both', lastEventId: '#0' });
  expect((await stats(server)).connections).toBe(1);
});

test('EventSourcePolyfill sends its headers; without them a 401 fails it as it fails the platform, with the status', async ({ context }) => {
  const server = await startServer({ auth: true });
  try {
    const page = await openPage(context, server);
    const token = await login(server, 'ann');
    const authed = new Lane(page, server, 'polyfill', 'auth');
    await authed.open({ headers: { Authorization: `Bearer ${token}` } });
    await authed.until((l) => count(l, 'open') === 1, 'open');
    await authed.publish('for ann');
    await authed.until((l) => l.length === 2, 'the event');
    expect(await authed.normalized()).toEqual([
      { event: 'open', readyState: 1, status: 200 },
      { event: 'message', data: 'for ann', lastEventId: '#0', origin: new URL(server.url).origin, message: true, readyState: 1 },
    ]);

    const anonymous = await lanes(page, server, 'anonymous', ['native', 'polyfill']);
    for (const lane of anonymous) await lane.open();
    for (const lane of anonymous) await lane.until((l) => l.length === 1, 'the error');
    expect(await anonymous[0]!.normalized()).toEqual([{ event: 'error', readyState: 2 }]);
    expect(await anonymous[1]!.normalized()).toEqual([{ event: 'error', readyState: 2, status: 401 }]);
  } finally {
    await server.close();
  }
});

test('EventSourcePolyfill heartbeatTimeout: a stalled stream is declared dead and remade (the platform would wait for ever)', async ({ engine, context, server }) => {
  const page = await openPage(context, server);
  const lane = new Lane(page, server, 'polyfill', 'stalled');
  await post(server, '/faults', { kind: 'stall', stream: lane.stream });
  // transport 'fetch': the silence rule, not the move to long-poll that 'auto' makes for a stream held back.
  await lane.open({ heartbeatTimeout: 1500, transport: 'fetch' });
  await lane.until((l) => count(l, 'open') === (engine.fetchWaitsForBody ? 1 : 2) && count(l, 'error') === 1, 'the open after the error');
  // Where fetch waits for the body's first byte, the stalled request never opens: its silence
  // ends it all the same.
  const stalled = engine.fetchWaitsForBody ? ['error0'] : ['open1', 'error0'];
  expect((await lane.normalized()).map((e) => `${e.event}${e.readyState}`)).toEqual([...stalled, 'open1']);
  await lane.publish('alive');
  await lane.until((l) => l.length === stalled.length + 2, 'the event');
});

// ---- fetchEventSource -------------------------------------------------------------------------

type Call = { cb: string; id?: string; event?: string; data?: string; message?: string; code?: string; status?: number; outcome?: string; at?: number; [k: string]: unknown };
const startFetch = (page: Tab, url: string, o: object = {}): Promise<number> => page.evaluate(([u, opts]) => es.fetch(u, opts), [url, o] as const);
const calls = (page: Tab, i: number): Promise<Call[]> => page.evaluate((n) => es.fetchLog(n), i);
const untilCalls = (page: Tab, i: number, check: (c: Call[]) => boolean, what: string) => until(() => calls(page, i), check, what);
const has = (c: Call[], cb: string, n = 1) => c.filter((x) => x.cb === cb).length >= n;

test('fetchEventSource: a GET is shared by two tabs; onopen gets a Response, onmessage { id, event, data }', async ({ context, server }) => {
  const pages = [await openPage(context, server), await openPage(context, server)];
  const runs = await Promise.all(pages.map((page) => startFetch(page, '/events?stream=fes', { onopen: 'accept' })));
  for (const [i, page] of pages.entries()) await untilCalls(page, runs[i]!, (c) => has(c, 'onopen'), 'onopen');
  await expect.poll(async () => (await stats(server)).perStream.fes?.open).toBe(1);
  const first = await publishOne(server, { stream: 'fes', data: 'plain' });
  const second = await publishOne(server, { stream: 'fes', type: 'greet', data: 'named\ntwo lines' });
  for (const [i, page] of pages.entries()) {
    const c = await untilCalls(page, runs[i]!, (x) => has(x, 'onmessage', 2), 'two messages');
    expect(c).toEqual([
      { cb: 'onopen', status: 200, ok: true, contentType: 'text/event-stream', url: `${server.url}/events?stream=fes`, response: true },
      { cb: 'onmessage', id: first, event: '', data: 'plain' },
      { cb: 'onmessage', id: second, event: 'greet', data: 'named\ntwo lines' },
    ]);
  }
  expect((await stats(server)).connections).toBe(1);
});

test('fetchEventSource: a clean end calls onclose, the promise resolves and nothing reconnects', async ({ context, server }) => {
  const page = await openPage(context, server);
  const run = await startFetch(page, '/events?stream=fes-close', { onopen: 'accept' });
  await untilCalls(page, run, (c) => has(c, 'onopen'), 'onopen');
  await post(server, '/faults/restart', { stream: 'fes-close' });
  const c = await untilCalls(page, run, (x) => has(x, 'settled'), 'settled');
  expect(c.map((x) => x.cb)).toEqual(['onopen', 'onclose', 'settled']);
  expect(c.at(-1)).toMatchObject({ outcome: 'resolved' });
  const requests = (await stats(server)).requests;
  // The wait is the assertion: a reconnection would come within the first backoff (1 s).
  await quietFor(1500);
  expect((await stats(server)).requests).toBe(requests);
  expect((await stats(server)).openStreams).toBe(0);
});

test('fetchEventSource: onclose throwing goes to onerror and the stream reconnects', async ({ context, server }) => {
  const page = await openPage(context, server);
  const run = await startFetch(page, '/events?stream=fes-reopen', { onopen: 'accept', onclose: 'throw' });
  await untilCalls(page, run, (c) => has(c, 'onopen'), 'onopen');
  await post(server, '/faults/restart', { stream: 'fes-reopen' });
  await untilCalls(page, run, (c) => has(c, 'onopen', 2), 'the second onopen');
  const id = await publishOne(server, { stream: 'fes-reopen', data: 'again' });
  const c = await untilCalls(page, run, (x) => has(x, 'onmessage'), 'the message');
  expect(c.map(({ at: _at, ...x }) => x)).toEqual([
    { cb: 'onopen', status: 200, ok: true, contentType: 'text/event-stream', url: `${server.url}/events?stream=fes-reopen`, response: true },
    { cb: 'onclose' },
    { cb: 'onerror', message: 'closed: retry' },
    { cb: 'onopen', status: 200, ok: true, contentType: 'text/event-stream', url: `${server.url}/events?stream=fes-reopen`, response: true },
    { cb: 'onmessage', id, event: '', data: 'again' },
  ]);
});

test('fetchEventSource: a 204 fails the default onopen; onerror throwing rejects the promise', async ({ context, server }) => {
  const page = await openPage(context, server);
  const run = await startFetch(page, '/events?stream=fes-204&fault=status&status=204', { onerror: 'throw' });
  const c = await untilCalls(page, run, (x) => has(x, 'settled'), 'settled');
  const message = 'Expected content-type to be text/event-stream, Actual: null';
  expect(c.map(({ at: _at, ...x }) => x)).toEqual([
    { cb: 'onerror', message },
    { cb: 'settled', outcome: 'rejected', message },
  ]);
  const requests = (await stats(server)).requests;
  expect(requests).toBe(1);
  // The wait is the assertion: a retry would come within the default 1 s.
  await quietFor(1500);
  expect((await stats(server)).requests).toBe(requests);
});

test("fetchEventSource: onerror's interval after a response that closes the stream: a new request, resuming with Last-Event-ID", async ({ context, server }) => {
  const page = await openPage(context, server);
  const stream = 'fes-retry';
  const run = await startFetch(page, `/events?stream=${stream}`, { onopen: 'accept', onclose: 'throw', onerror: 2000 });
  await untilCalls(page, run, (c) => has(c, 'onopen'), 'onopen');
  const m1 = await publishOne(server, { stream, data: 'm1' });
  await untilCalls(page, run, (c) => has(c, 'onmessage'), 'm1');
  // The stream ends; onclose throws (retry); the reconnection gets a 204: the client stops, onopen
  // accepts it (so its empty body ends: onclose again, which throws), onerror says 2000 ms.
  await post(server, '/faults', { kind: 'status', status: 204, stream });
  await post(server, '/faults/restart', { stream });
  await untilCalls(page, run, (c) => has(c, 'onerror', 2), 'the second onerror');
  // Published during the 2 s: only a request resuming from m1 gets it.
  const m2 = await publishOne(server, { stream, data: 'm2' });
  const c = await untilCalls(page, run, (x) => has(x, 'onmessage', 2), 'm2');
  const ok = { status: 200, ok: true, contentType: 'text/event-stream', url: `${server.url}/events?stream=${stream}`, response: true };
  expect(c.map(({ at: _at, ...x }) => x)).toEqual([
    { cb: 'onopen', ...ok },
    { cb: 'onmessage', id: m1, event: '', data: 'm1' },
    { cb: 'onclose' },
    { cb: 'onerror', message: 'closed: retry' },
    { cb: 'onopen', status: 204, ok: true, contentType: null, url: ok.url, response: true },
    { cb: 'onclose' },
    { cb: 'onerror', message: 'closed: retry' },
    { cb: 'onopen', ...ok },
    { cb: 'onmessage', id: m2, event: '', data: 'm2' },
  ]);
  const errors = c.filter((x) => x.cb === 'onerror');
  expect(errors[2], 'no more errors').toBeUndefined();
});

test('fetchEventSource: aborting the signal resolves the promise and closes the stream', async ({ context, server }) => {
  const page = await openPage(context, server);
  const run = await startFetch(page, '/events?stream=fes-abort', { onopen: 'accept' });
  await untilCalls(page, run, (c) => has(c, 'onopen'), 'onopen');
  await expect.poll(async () => (await stats(server)).openStreams).toBe(1);
  await page.evaluate((n) => es.abort(n), run);
  const c = await untilCalls(page, run, (x) => has(x, 'settled'), 'settled');
  expect(c.map((x) => x.cb)).toEqual(['onopen', 'settled']);
  expect(c.at(-1)).toMatchObject({ outcome: 'resolved' });
  await expect.poll(async () => (await stats(server)).openStreams).toBe(0);
});

test('fetchEventSource: a POST runs in the tab with its body and headers', async ({ context, server }) => {
  const requested = recordRequests(server);
  const page = await openPage(context, server);
  const run = await startFetch(page, '/events?stream=fes-post', { onopen: 'accept', method: 'POST', body: 'hello', headers: { 'Content-Type': 'text/plain' } });
  await untilCalls(page, run, (c) => has(c, 'onopen'), 'onopen');
  const id = await publishOne(server, { stream: 'fes-post', data: 'posted' });
  const c = await untilCalls(page, run, (x) => has(x, 'onmessage'), 'the message');
  expect(c.at(-1)).toEqual({ cb: 'onmessage', id, event: '', data: 'posted' });
  // One request to the stream: the tab's own (a worker's would name the worker's script as its referrer).
  const seen = requested.filter((r) => r.path === '/events').map((r) => `${r.method} ${r.contentType} ${r.body} from ${r.referer}`);
  expect(seen).toEqual([`POST text/plain hello from ${server.url}/eventsource.html`]);
});

test('fetchEventSource: without openWhenHidden, callbacks wait while the tab is hidden and come in order when it is visible', async ({ context, server }) => {
  const page = await openPage(context, server);
  const stream = 'fes-hidden';
  const waits = await startFetch(page, `/events?stream=${stream}`, { onopen: 'accept' });
  const always = await startFetch(page, `/events?stream=${stream}`, { onopen: 'accept', openWhenHidden: true });
  for (const run of [waits, always]) await untilCalls(page, run, (c) => has(c, 'onopen'), 'onopen');
  await page.evaluate(() => es.hide(true));
  const id = await publishOne(server, { stream, data: 'while hidden' });
  await untilCalls(page, always, (c) => has(c, 'onmessage'), 'the message (openWhenHidden)');
  // The wait is the assertion: the hidden run's callback does not come in the 300 ms after the
  // other run of the same tab got the event.
  await quietFor(300);
  expect((await calls(page, waits)).map((x) => x.cb)).toEqual(['onopen']);
  await page.evaluate(() => es.hide(false));
  const c = await untilCalls(page, waits, (x) => has(x, 'onmessage'), 'the message, once visible');
  expect(c.at(-1)).toEqual({ cb: 'onmessage', id, event: '', data: 'while hidden' });
});
