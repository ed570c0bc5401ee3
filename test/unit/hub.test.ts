import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection, ConnectionOptions } from '../../src/engine/connection.js';
import { createHub, type HubEndpoint, type HubOptions } from '../../src/hub/hub.js';
import type { Frame } from '../../src/protocol/messages.js';
import type { ConnectionStatus, StreamSpec } from '../../src/protocol/stream.js';
import type { HeadersInit, WireEvent } from '../../src/protocol/types.js';

interface FakeConnection {
  options: ConnectionOptions;
  closed: boolean;
  listened: string[];
  status(state: ConnectionStatus['state'], extra?: Partial<ConnectionStatus>): ConnectionStatus;
  event(type: string, data: string, id?: string): WireEvent;
}

function status(state: ConnectionStatus['state'], extra: Partial<ConnectionStatus> = {}): ConnectionStatus {
  return { state, transport: 'fetch', attempt: 0, lastEventId: '', ...extra };
}

function setup(options: Omit<HubOptions, 'connect' | 'schedule'> = {}) {
  const made: FakeConnection[] = [];
  const queue: (() => void)[] = [];
  const schedule = vi.fn((flush: () => void) => void queue.push(flush));
  const connect = vi.fn((opts: ConnectionOptions): Connection => {
    let current = status('connecting', { lastEventId: opts.lastEventId });
    const fake: FakeConnection = {
      options: opts,
      closed: false,
      listened: [],
      status(state, extra = {}) {
        current = status(state, extra);
        opts.onStatus(current);
        return current;
      },
      event(type, data, id = '') {
        const e = { type, data, id };
        opts.onEvent(e);
        return e;
      },
    };
    made.push(fake);
    // Like createConnection: the first status is reported before the connection is returned.
    opts.onStatus(current);
    return {
      get status() {
        return current;
      },
      listen: (type) => void fake.listened.push(type),
      reconnectNow: () => {},
      close() {
        if (fake.closed) return;
        fake.closed = true;
        fake.status('closed');
      },
    };
  });
  const hub = createHub({ ...options, connect, schedule });
  const flush = () => {
    for (const f of queue.splice(0)) f();
  };
  return { hub, made, connect, schedule, flush, pending: () => queue.length };
}

function endpoint(headers?: (sub: number) => Promise<HeadersInit>) {
  const deliveries: Frame[][] = [];
  const ep: HubEndpoint & { deliveries: Frame[][]; headersCalls: number[] } = {
    deliveries,
    headersCalls: [],
    deliver: (frames) => void deliveries.push(frames),
    headers(sub) {
      ep.headersCalls.push(sub);
      return headers ? headers(sub) : Promise.resolve({});
    },
  };
  return ep;
}

/** Events delivered to `sub` in all deliveries, in order. */
function eventsOf(ep: { deliveries: Frame[][] }, sub: number): WireEvent[] {
  return ep.deliveries.flat().flatMap((f) => (f.kind === 'events' && f.sub === sub ? f.events : []));
}
function statesOf(ep: { deliveries: Frame[][] }, sub: number): string[] {
  return ep.deliveries.flat().flatMap((f) => (f.kind === 'status' && f.sub === sub ? [f.status.state] : []));
}

function spec(over: Partial<StreamSpec> = {}): StreamSpec {
  return {
    url: 'http://127.0.0.1:9/stream',
    transport: 'fetch',
    withCredentials: false,
    credentialsKey: '',
    backoff: { initialMs: 1000, maxMs: 30_000, factor: 2 },
    heartbeatTimeoutMs: 45_000,
    maxEventSize: 1024 * 1024,
    method: 'GET',
    dynamicHeaders: false,
    ...over,
  };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('createHub: sharing', () => {
  it('two endpoints with equal specs share one connection and both get its events', () => {
    const { hub, made, connect, flush } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    hub.attach(b).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    expect(connect).toHaveBeenCalledTimes(1);
    made[0]!.event('message', 'hello', '1');
    flush();
    expect(eventsOf(a, 1)).toEqual([{ type: 'message', data: 'hello', id: '1' }]);
    expect(eventsOf(b, 1)).toEqual([{ type: 'message', data: 'hello', id: '1' }]);
    expect(hub.streams()).toHaveLength(1);
    expect(hub.streams()[0]!.subscribers).toBe(2);
  });

  it('passes the spec and the first subscriber resume point to the connection', () => {
    const { hub, made } = setup();
    hub.attach(endpoint()).subscribe({ sub: 3, spec: spec({ heartbeatTimeoutMs: 1234, maxEventSize: 99 }), types: ['a', 'b'], lastEventId: '42' });
    const o = made[0]!.options;
    expect(o).toMatchObject({ url: 'http://127.0.0.1:9/stream', transport: 'fetch', lastEventId: '42', heartbeatTimeoutMs: 1234, maxEventSize: 99, method: 'GET' });
    expect([...(o.eventTypes ?? [])].sort()).toEqual(['a', 'b']);
    expect(o.customHeaders).toBe(false);
  });

  it('different credentialsKey → two connections, and events never cross', () => {
    const { hub, made, connect, flush } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe({ sub: 1, spec: spec({ credentialsKey: 'jwt:alice' }), types: ['*'], lastEventId: '' });
    hub.attach(b).subscribe({ sub: 1, spec: spec({ credentialsKey: 'jwt:bob' }), types: ['*'], lastEventId: '' });
    expect(connect).toHaveBeenCalledTimes(2);
    made[0]!.event('message', 'for alice');
    made[1]!.event('message', 'for bob');
    flush();
    expect(eventsOf(a, 1).map((e) => e.data)).toEqual(['for alice']);
    expect(eventsOf(b, 1).map((e) => e.data)).toEqual(['for bob']);
  });

  it('a different url or method opens another connection', () => {
    const { hub, connect } = setup();
    const peer = hub.attach(endpoint());
    peer.subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    peer.subscribe({ sub: 2, spec: spec({ url: 'http://127.0.0.1:9/other' }), types: ['*'], lastEventId: '' });
    peer.subscribe({ sub: 3, spec: spec({ method: 'POST', body: '{}' }), types: ['*'], lastEventId: '' });
    peer.subscribe({ sub: 4, spec: spec(), types: ['*'], lastEventId: '' });
    expect(connect).toHaveBeenCalledTimes(3);
  });
});

describe('createHub: routing', () => {
  it("'*' gets every event, ['a'] gets only a", () => {
    const { hub, made, flush } = setup();
    const all = endpoint();
    const onlyA = endpoint();
    hub.attach(all).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    hub.attach(onlyA).subscribe({ sub: 7, spec: spec(), types: ['a'], lastEventId: '' });
    made[0]!.event('a', '1');
    made[0]!.event('b', '2');
    made[0]!.event('message', '3');
    made[0]!.event('a', '4');
    flush();
    expect(eventsOf(all, 1).map((e) => e.data)).toEqual(['1', '2', '3', '4']);
    expect(eventsOf(onlyA, 7).map((e) => `${e.type}:${e.data}`)).toEqual(['a:1', 'a:4']);
  });

  it("'*' among named types still means every type; the names reach the connection", () => {
    const { hub, made, flush } = setup();
    const ep = endpoint();
    hub.attach(ep).subscribe({ sub: 1, spec: spec(), types: ['*', 'a'], lastEventId: '' });
    expect([...(made[0]!.options.eventTypes ?? [])]).toEqual(['a']);
    made[0]!.event('a', '1');
    made[0]!.event('z', '2');
    flush();
    expect(eventsOf(ep, 1).map((e) => e.data)).toEqual(['1', '2']);
  });

  it('setTypes changes the routing and tells the connection about new types', () => {
    const { hub, made, flush } = setup();
    const ep = endpoint();
    const peer = hub.attach(ep);
    peer.subscribe({ sub: 1, spec: spec(), types: ['a'], lastEventId: '' });
    made[0]!.event('b', 'dropped');
    peer.setTypes(1, ['a', 'b']);
    expect(made[0]!.listened).toContain('b');
    made[0]!.event('b', 'kept');
    peer.setTypes(1, []);
    made[0]!.event('a', 'dropped too');
    flush();
    expect(eventsOf(ep, 1).map((e) => e.data)).toEqual(['kept']);
  });
});

describe('createHub: batching', () => {
  it('many events → one deliver per endpoint per flush, frames in order', () => {
    const { hub, made, flush, schedule } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    hub.attach(b).subscribe({ sub: 2, spec: spec(), types: ['*'], lastEventId: '' });
    flush();
    a.deliveries.length = b.deliveries.length = 0;
    schedule.mockClear();
    for (let i = 1; i <= 500; i++) made[0]!.event('message', `e${i}`, String(i));
    expect(a.deliveries).toHaveLength(0);
    expect(schedule).toHaveBeenCalledTimes(1);
    flush();
    expect(a.deliveries).toHaveLength(1);
    expect(b.deliveries).toHaveLength(1);
    expect(a.deliveries[0]).toHaveLength(1);
    expect(a.deliveries[0]![0]).toMatchObject({ kind: 'events', sub: 1 });
    expect(eventsOf(a, 1).map((e) => e.id)).toEqual(Array.from({ length: 500 }, (_, i) => String(i + 1)));
    expect(eventsOf(b, 2).map((e) => e.id)).toEqual(Array.from({ length: 500 }, (_, i) => String(i + 1)));
    // Nothing new: no empty delivery on a later flush.
    flush();
    expect(a.deliveries).toHaveLength(1);
  });

  it('status frames are interleaved with events in the order things happened', () => {
    const { hub, made, flush } = setup();
    const ep = endpoint();
    hub.attach(ep).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    flush();
    ep.deliveries.length = 0;
    const c = made[0]!;
    c.event('message', 'x1', '1');
    c.event('message', 'x2', '2');
    c.status('reconnecting', { attempt: 1, retryInMs: 500 });
    c.status('open', { attempt: 1 });
    c.event('message', 'x3', '3');
    flush();
    expect(ep.deliveries).toHaveLength(1);
    const frames = ep.deliveries[0]!;
    expect(frames.map((f) => (f.kind === 'events' ? f.events.map((e) => e.data).join(',') : f.status.state))).toEqual([
      'x1,x2',
      'reconnecting',
      'open',
      'x3',
    ]);
    expect(frames[1]).toMatchObject({ kind: 'status', sub: 1, status: { state: 'reconnecting', attempt: 1, retryInMs: 500 } });
  });

  it('two subscriptions of one endpoint still get a single deliver per flush', () => {
    const { hub, made, flush } = setup();
    const ep = endpoint();
    const peer = hub.attach(ep);
    peer.subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    peer.subscribe({ sub: 2, spec: spec(), types: ['b'], lastEventId: '' });
    flush();
    ep.deliveries.length = 0;
    made[0]!.event('a', '1');
    made[0]!.event('b', '2');
    made[0]!.event('b', '3');
    flush();
    expect(ep.deliveries).toHaveLength(1);
    expect(eventsOf(ep, 1).map((e) => e.data)).toEqual(['1', '2', '3']);
    expect(eventsOf(ep, 2).map((e) => e.data)).toEqual(['2', '3']);
  });
});

describe('createHub: status', () => {
  it('a late subscriber gets the current status at once, the others no duplicate', () => {
    const { hub, made, flush } = setup();
    const first = endpoint();
    hub.attach(first).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    made[0]!.status('open', { lastEventId: '9' });
    flush();
    expect(statesOf(first, 1)).toEqual(['connecting', 'open']);
    const late = endpoint();
    hub.attach(late).subscribe({ sub: 5, spec: spec(), types: ['*'], lastEventId: '' });
    flush();
    expect(late.deliveries).toEqual([[{ kind: 'status', sub: 5, status: status('open', { lastEventId: '9' }) }]]);
    expect(statesOf(first, 1)).toEqual(['connecting', 'open']);
  });

  it('a stream that reports closed is forgotten: a new subscriber opens a fresh connection', () => {
    const { hub, made, connect, flush } = setup();
    const a = endpoint();
    hub.attach(a).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    made[0]!.status('closed', { error: { code: 'http', message: 'Server answered 404', status: 404 } });
    flush();
    expect(a.deliveries.flat().at(-1)).toMatchObject({ kind: 'status', status: { state: 'closed', error: { status: 404 } } });
    expect(hub.streams()).toHaveLength(0);
    const b = endpoint();
    hub.attach(b).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    expect(connect).toHaveBeenCalledTimes(2);
    made[1]!.status('open');
    made[1]!.event('message', 'fresh');
    flush();
    expect(eventsOf(b, 1).map((e) => e.data)).toEqual(['fresh']);
    expect(statesOf(b, 1)).toEqual(['connecting', 'open']);
    expect(statesOf(b, 1)).not.toContain('closed');
  });
});

describe('createHub: grace period', () => {
  it('closes the connection only graceMs after the last subscriber left', async () => {
    const { hub, made } = setup({ graceMs: 3000 });
    const a = hub.attach(endpoint());
    const b = hub.attach(endpoint());
    a.subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    b.subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    a.unsubscribe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(made[0]!.closed).toBe(false);
    b.unsubscribe(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(made[0]!.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(made[0]!.closed).toBe(true);
    expect(hub.streams()).toHaveLength(0);
  });

  it('a resubscribe within the grace keeps the same connection', async () => {
    const { hub, made, connect, flush } = setup({ graceMs: 3000 });
    const first = hub.attach(endpoint());
    first.subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    made[0]!.status('open');
    first.detach();
    await vi.advanceTimersByTimeAsync(2000);
    const again = endpoint();
    hub.attach(again).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(connect).toHaveBeenCalledTimes(1);
    expect(made[0]!.closed).toBe(false);
    made[0]!.event('message', 'still here');
    flush();
    expect(statesOf(again, 1)).toEqual(['open']);
    expect(eventsOf(again, 1).map((e) => e.data)).toEqual(['still here']);
  });

  it('after the grace a new subscriber opens a new connection', async () => {
    const { hub, made, connect } = setup({ graceMs: 1000 });
    const peer = hub.attach(endpoint());
    peer.subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    peer.unsubscribe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(made[0]!.closed).toBe(true);
    peer.subscribe({ sub: 2, spec: spec(), types: ['*'], lastEventId: '5' });
    expect(connect).toHaveBeenCalledTimes(2);
    expect(made[1]!.options.lastEventId).toBe('5');
    expect(made[1]!.closed).toBe(false);
  });

  it('detach stops deliveries to that endpoint at once', () => {
    const { hub, made, flush } = setup();
    const gone = endpoint();
    const stays = endpoint();
    const peer = hub.attach(gone);
    peer.subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    hub.attach(stays).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    made[0]!.event('message', 'before');
    peer.detach();
    made[0]!.event('message', 'after');
    flush();
    expect(gone.deliveries).toEqual([]);
    expect(eventsOf(stays, 1).map((e) => e.data)).toEqual(['before', 'after']);
  });
});

describe('createHub: headers provider', () => {
  it('fixed headers are handed to the connection as they are', async () => {
    const { hub, made } = setup();
    const ep = endpoint();
    hub.attach(ep).subscribe({ sub: 1, spec: spec({ headers: { 'X-Key': 'k' } }), types: ['*'], lastEventId: '' });
    expect(made[0]!.options.customHeaders).toBe(true);
    await expect(made[0]!.options.headers()).resolves.toEqual({ 'X-Key': 'k' });
    expect(ep.headersCalls).toEqual([]);
  });

  it("asks a subscriber's endpoint for its headers, every time", async () => {
    const { hub, made } = setup();
    let n = 0;
    const ep = endpoint(async () => ({ Authorization: `Bearer ${++n}` }));
    hub.attach(ep).subscribe({ sub: 4, spec: spec({ dynamicHeaders: true }), types: ['*'], lastEventId: '' });
    expect(made[0]!.options.customHeaders).toBe(true);
    await expect(made[0]!.options.headers()).resolves.toEqual({ Authorization: 'Bearer 1' });
    await expect(made[0]!.options.headers()).resolves.toEqual({ Authorization: 'Bearer 2' });
    expect(ep.headersCalls).toEqual([4, 4]);
  });

  it('moves to another subscriber when the first endpoint rejects', async () => {
    const { hub, made } = setup();
    const dead = endpoint(() => Promise.reject(new Error('tab is gone')));
    const alive = endpoint(async () => ({ Authorization: 'Bearer alive' }));
    hub.attach(dead).subscribe({ sub: 1, spec: spec({ dynamicHeaders: true }), types: ['*'], lastEventId: '' });
    hub.attach(alive).subscribe({ sub: 2, spec: spec({ dynamicHeaders: true }), types: ['*'], lastEventId: '' });
    await expect(made[0]!.options.headers()).resolves.toEqual({ Authorization: 'Bearer alive' });
    expect(dead.headersCalls).toEqual([1]);
    expect(alive.headersCalls).toEqual([2]);
  });

  it('moves to another subscriber when the first never answers (headersTimeoutMs)', async () => {
    const { hub, made } = setup({ headersTimeoutMs: 2000 });
    const stuck = endpoint(() => new Promise<HeadersInit>(() => {}));
    const alive = endpoint(async () => ({ Authorization: 'Bearer alive' }));
    hub.attach(stuck).subscribe({ sub: 1, spec: spec({ dynamicHeaders: true }), types: ['*'], lastEventId: '' });
    hub.attach(alive).subscribe({ sub: 2, spec: spec({ dynamicHeaders: true }), types: ['*'], lastEventId: '' });
    let result: HeadersInit | undefined;
    void Promise.resolve(made[0]!.options.headers()).then((h) => (result = h));
    await vi.advanceTimersByTimeAsync(1999);
    expect(result).toBeUndefined();
    expect(alive.headersCalls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toEqual({ Authorization: 'Bearer alive' });
  });

  it('skips subscribers without a provider and rejects when no provider answers', async () => {
    const { hub, made } = setup({ headersTimeoutMs: 1000 });
    const plain = endpoint();
    const failing = endpoint(() => Promise.reject(new Error('no token')));
    hub.attach(failing).subscribe({ sub: 1, spec: spec({ dynamicHeaders: true }), types: ['*'], lastEventId: '' });
    hub.attach(plain).subscribe({ sub: 2, spec: spec({ dynamicHeaders: false }), types: ['*'], lastEventId: '' });
    await expect(made[0]!.options.headers()).rejects.toThrow('no token');
    expect(plain.headersCalls).toEqual([]);
  });

  it('a provider of a subscriber that left is not asked', async () => {
    const { hub, made } = setup();
    const left = endpoint(async () => ({ Authorization: 'Bearer left' }));
    const stays = endpoint(async () => ({ Authorization: 'Bearer stays' }));
    const peer = hub.attach(left);
    peer.subscribe({ sub: 1, spec: spec({ dynamicHeaders: true }), types: ['*'], lastEventId: '' });
    hub.attach(stays).subscribe({ sub: 1, spec: spec({ dynamicHeaders: true }), types: ['*'], lastEventId: '' });
    peer.unsubscribe(1);
    await expect(made[0]!.options.headers()).resolves.toEqual({ Authorization: 'Bearer stays' });
    expect(left.headersCalls).toEqual([]);
  });
});

describe('createHub: catch-up', () => {
  it('a subscriber that joins behind the stream gets what it missed after its id, of its types', () => {
    const { hub, made, flush } = setup();
    const first = endpoint();
    hub.attach(first).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    const c = made[0]!;
    c.event('a', '1', '1');
    c.event('b', '2', '2');
    c.event('a', '3', '3');
    c.event('a', '4', '4');
    flush();
    const late = endpoint();
    hub.attach(late).subscribe({ sub: 7, spec: spec(), types: ['a'], lastEventId: '2' });
    flush();
    expect(eventsOf(late, 7).map((e) => e.id)).toEqual(['3', '4']);
    c.event('a', '5', '5');
    flush();
    expect(eventsOf(late, 7).map((e) => e.id)).toEqual(['3', '4', '5']);
    expect(made).toHaveLength(1);
  });

  it('a subscriber standing where the upstream resumed from gets everything it routed', () => {
    const { hub, made, flush } = setup();
    // A new leader resumes from 12; a follower that also stood at 12 rejoins a moment later.
    hub.attach(endpoint()).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '12' });
    made[0]!.event('message', 'x', '13');
    made[0]!.event('message', 'y', '14');
    flush();
    const follower = endpoint();
    hub.attach(follower).subscribe({ sub: 2, spec: spec(), types: ['*'], lastEventId: '12' });
    flush();
    expect(eventsOf(follower, 2).map((e) => e.id)).toEqual(['13', '14']);
  });

  it('an id that is the newest, unknown or too old brings nothing extra', () => {
    const { hub, made, flush } = setup({ catchUp: 2 });
    hub.attach(endpoint()).subscribe({ sub: 1, spec: spec(), types: ['*'], lastEventId: '' });
    for (const id of ['1', '2', '3']) made[0]!.event('message', id, id);
    flush();
    for (const [sub, lastEventId] of [[2, '3'], [3, 'nope'], [4, '1']] as const) {
      const ep = endpoint();
      hub.attach(ep).subscribe({ sub, spec: spec(), types: ['*'], lastEventId });
      flush();
      expect(eventsOf(ep, sub)).toEqual([]);
    }
  });
});
