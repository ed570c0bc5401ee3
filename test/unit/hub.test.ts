import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TOPICS_DEBOUNCE_MS } from '../../src/protocol/limits.js';
import { START } from '../../src/protocol/stream.js';
import type { EventsFrame } from '../../src/protocol/tab-hub-messages.js';
import type { WireEvent } from '../../src/protocol/types.js';
import { decodeHubMessage } from '../../src/sharing/wire-decoder.js';
import { createWireEncoder, type WireEventsFrame } from '../../src/sharing/wire-encoder.js';
import { endpoint, eventsOf, idsOf, req, setup, spec, statesOf, type Ep, type FakeConnection } from './hub-helpers.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('createHub: sharing', () => {
  it('a message of a kind it does not know (another build) changes nothing: the subscription it names stays', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const tab = hub.attach(a);
    tab.subscribe(req());
    tab.handle({ kind: 'resume', sub: 1 });
    expect(made[0]!.closed).toBe(false);
    made[0]!.event('1');
    flush();
    expect(idsOf(a)).toEqual(['1']);
  });

  it('two endpoints with equal specs share one connection and both get its events', () => {
    const { hub, made, connect, flush } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe(req());
    hub.attach(b).subscribe(req());
    expect(connect).toHaveBeenCalledTimes(1);
    made[0]!.event('1');
    flush();
    expect(eventsOf(a)).toEqual([{ type: 'message', data: 'd1', id: '1' }]);
    expect(idsOf(b)).toEqual(['1']);
  });

  it('every option that shapes the connection is part of the key: other options, another upstream', () => {
    const { hub, connect } = setup();
    hub.attach(endpoint()).subscribe(req());
    hub.attach(endpoint()).subscribe(req({ spec: spec({ heartbeatTimeoutMs: 5000 }) }));
    hub.attach(endpoint()).subscribe(req({ spec: spec({ backoff: { initialMs: 1, maxMs: 2, factor: 2 } }) }));
    hub.attach(endpoint()).subscribe(req({ spec: spec({ maxEventSize: 10 }) }));
    hub.attach(endpoint()).subscribe(req({ spec: spec({ credentialsKey: 'bob' }) }));
    hub.attach(endpoint()).subscribe(req({ spec: spec({ method: 'POST', body: 'x' }) }));
    expect(connect).toHaveBeenCalledTimes(6);
    expect(connect.mock.calls[1]![0].heartbeatTimeoutMs).toBe(5000);
    expect(connect.mock.calls[3]![0].maxEventSize).toBe(10);
  });

  it('passes the spec and the first subscriber position to the connection', () => {
    const { hub, made } = setup();
    hub.attach(endpoint()).subscribe(req({ sub: 3, spec: spec({ maxConnections: 2 }), filter: { types: ['a', 'b'] }, position: { id: '42', count: 7, lineage: 'old' } }));
    const o = made[0]!.options;
    expect(o).toMatchObject({ url: 'http://127.0.0.1:9/stream', lastEventId: '42', maxConnections: 2, method: 'GET' });
    // The types listened to, and the server's control events (the native EventSource needs the names).
    expect([...(o.eventTypes ?? [])].sort()).toEqual(['a', 'b', 'ssemux:denied', 'ssemux:reset']);
    expect(o.customHeaders).toBe(false);
  });

  it('different credentials → two connections, and events never cross', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe(req({ spec: spec({ credentialsKey: 'alice' }) }));
    hub.attach(b).subscribe(req({ spec: spec({ credentialsKey: 'bob' }) }));
    made[0]!.event('1', 'message', 'for alice');
    made[1]!.event('2', 'message', 'for bob');
    flush();
    expect(idsOf(a)).toEqual(['1']);
    expect(idsOf(b)).toEqual(['2']);
  });
});

describe('createHub: routing and batching', () => {
  it("'*' gets every event, ['rare'] only its type, and an event typed '*' is one event", () => {
    const { hub, made, flush } = setup();
    const all = endpoint();
    const rare = endpoint();
    hub.attach(all).subscribe(req());
    hub.attach(rare).subscribe(req({ filter: { types: ['rare'] } }));
    made[0]!.event('1', 'common');
    made[0]!.event('2', 'rare');
    made[0]!.event('3', '*');
    flush();
    expect(idsOf(all)).toEqual(['1', '2', '3']);
    expect(idsOf(rare)).toEqual(['2']);
  });

  it('update changes the routing and tells the connection about new types', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const peer = hub.attach(a);
    peer.subscribe(req({ filter: { types: ['x'] } }));
    made[0]!.event('1', 'y');
    peer.update(1, { types: ['y'] }, START);
    made[0]!.event('2', 'y');
    flush();
    expect(idsOf(a)).toEqual(['2']);
    expect(made[0]!.listened).toContain('y');
  });

  it('many events → one deliver per endpoint per flush, in order, with the position after them', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const peer = hub.attach(a);
    peer.subscribe(req());
    peer.subscribe(req({ sub: 2, filter: { types: ['b'] } }));
    flush();
    a.deliveries.length = 0;
    for (let i = 1; i <= 100; i++) made[0]!.event(String(i), i % 2 ? 'a' : 'b');
    flush();
    expect(a.deliveries).toHaveLength(1);
    expect(idsOf(a, 1)).toHaveLength(100);
    expect(idsOf(a, 2)).toEqual(Array.from({ length: 50 }, (_, i) => String((i + 1) * 2)));
    expect(a.positions.get(1)).toEqual({ id: '100', count: 100, lineage: 'L1' });
    expect(a.positions.get(2)).toEqual({ id: '100', count: 100, lineage: 'L1' });
  });

  it('tabs with the same filter get the same array of events, serialized once for every tab', () => {
    const { hub, made, flush } = setup();
    const tabs = [endpoint(), endpoint(), endpoint(), endpoint()];
    hub.attach(tabs[0]!).subscribe(req());
    hub.attach(tabs[1]!).subscribe(req());
    hub.attach(tabs[2]!).subscribe(req({ filter: { types: ['b'] } }));
    hub.attach(tabs[3]!).subscribe(req({ filter: { types: ['b'] } }));
    flush();
    for (const t of tabs) t.deliveries.length = 0;
    for (let i = 1; i <= 10; i++) made[0]!.event(String(i), i % 2 ? 'a' : 'b');
    flush();
    const arrays = tabs.map((t) => (t.deliveries[0]![0] as { events: WireEvent[] }).events);
    expect(arrays[0]).toBe(arrays[1]);
    expect(arrays[2]).toBe(arrays[3]);
    expect(arrays[0]!.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect(arrays[2]!.map((e) => e.id)).toEqual(['2', '4', '6', '8', '10']);
    const toWire = createWireEncoder();
    const wired = tabs.map((t) => toWire({ kind: 'frames', frames: t.deliveries[0]! }));
    const wire = wired.map((m) => (m as { frames: WireEventsFrame[] }).frames[0]!);
    expect(wire[0]!.events).toBe(wire[1]!.events);
    expect(decodeHubMessage(wired[2])).toEqual({ kind: 'frames', frames: [tabs[2]!.deliveries[0]![0]] });
  });

  it('a filter changed between two flushes applies from the change: what went by before went by under the old one', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const peer = hub.attach(a);
    peer.subscribe(req({ filter: { types: ['x'] } }));
    flush();
    made[0]!.event('1', 'x');
    made[0]!.event('2', 'y');
    peer.update(1, { types: ['y'] }, START);
    made[0]!.event('3', 'x');
    made[0]!.event('4', 'y');
    peer.update(1, { types: ['x', 'y'] }, START);
    made[0]!.event('5', 'x');
    flush();
    expect(idsOf(a)).toEqual(['1', '4', '5']);
    expect(a.deliveries.at(-1)).toHaveLength(1);
  });

  it('a subscriber that joins between two flushes gets none of what went by before it came', () => {
    const { hub, made, flush } = setup();
    const first = endpoint();
    const late = endpoint();
    hub.attach(first).subscribe(req());
    flush();
    made[0]!.event('1');
    hub.attach(late).subscribe(req());
    made[0]!.event('2');
    flush();
    expect(idsOf(first)).toEqual(['1', '2']);
    expect(idsOf(late)).toEqual(['2']);
  });

  it('with a flush gap, events that come sooner than the gap after a flush wait for one flush', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const { hub, made, flush } = setup({ flushGap: (endpoints) => endpoints * 5 });
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe(req());
    hub.attach(b).subscribe(req());
    flush();
    const deliveries = a.deliveries.length;
    await vi.advanceTimersByTimeAsync(20);
    made[0]!.event('1');
    flush(); // the first flush after a quiet spell goes out at once
    expect(a.deliveries).toHaveLength(deliveries + 1);
    made[0]!.event('2');
    made[0]!.event('3');
    flush();
    expect(a.deliveries).toHaveLength(deliveries + 1);
    await vi.advanceTimersByTimeAsync(9); // 2 endpoints: a 10 ms gap
    expect(a.deliveries).toHaveLength(deliveries + 1);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.deliveries).toHaveLength(deliveries + 2);
    expect(idsOf(a)).toEqual(['1', '2', '3']);
    expect(idsOf(b)).toEqual(['1', '2', '3']);
  });

  it('status frames come after the events routed before the change', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    hub.attach(a).subscribe(req());
    made[0]!.status('open');
    made[0]!.event('1');
    made[0]!.status('reconnecting');
    made[0]!.event('2');
    flush();
    const kinds = a.deliveries
      .flat()
      .filter((f) => !('tabs' in f))
      .map((f) => ('status' in f ? f.status.state : 'events' in f ? f.events.map((e) => e.id).join() : ''));
    expect(kinds.filter((k) => k !== '')).toEqual(['connecting', 'open', '1', 'reconnecting', '2']);
  });
});

describe('createHub: the position belongs to the stream', () => {
  it('a subscriber whose types never go by still learns where the stream stands, at every flush that moved it', () => {
    const { hub, made, flush } = setup();
    const rare = endpoint();
    hub.attach(rare).subscribe(req({ filter: { types: ['rare'] } }));
    flush();
    made[0]!.event('1', 'common');
    made[0]!.event('2', 'common');
    flush();
    expect(idsOf(rare)).toEqual([]);
    expect(rare.positions.get(1)).toEqual({ id: '2', count: 2, lineage: 'L1' });
    made[0]!.idOnly('3');
    flush();
    expect(rare.positions.get(1)).toEqual({ id: '3', count: 2, lineage: 'L1' });
    // A flush that did not move the stream sends nothing.
    const before = rare.deliveries.length;
    flush();
    made[0]!.status('open');
    flush();
    expect(rare.deliveries.length).toBe(before + 1);
  });

  it('after a hub restart, tabs with mixed filters resume with nothing doubled or lost', () => {
    // First hub: a rare tab and two '*' tabs; 1 rare and 3,000 common events.
    const first = setup();
    const tabs = { rare: endpoint(), all1: endpoint(), all2: endpoint() };
    first.hub.attach(tabs.rare).subscribe(req({ filter: { types: ['rare'] } }));
    first.hub.attach(tabs.all1).subscribe(req());
    first.hub.attach(tabs.all2).subscribe(req());
    let id = 0;
    first.made[0]!.event(String(++id), 'rare');
    for (let i = 0; i < 3000; i++) first.made[0]!.event(String(++id), 'common');
    first.flush();
    // The hub dies. A new one starts; the rare tab resubscribes first.
    const second = setup();
    for (const [name, tab] of Object.entries(tabs)) {
      second.hub.attach(tab).subscribe(req({ filter: { types: name === 'rare' ? ['rare'] : ['*'] }, position: tab.positions.get(1)! }));
    }
    expect(second.connect).toHaveBeenCalledTimes(1);
    expect(second.made[0]!.options.lastEventId).toBe('3001');
    // The new upstream resumes after 3001 and the stream goes on.
    for (let i = 0; i < 10; i++) second.made[0]!.event(String(++id), i === 5 ? 'rare' : 'common');
    second.flush();
    const expected = Array.from({ length: id }, (_, i) => String(i + 1));
    expect(idsOf(tabs.all1)).toEqual(expected);
    expect(idsOf(tabs.all2)).toEqual(expected);
    expect(idsOf(tabs.rare)).toEqual(['1', '3007']);
  });

  it('a subscriber ahead of the stream skips what it already has, then goes on', () => {
    const { hub, made, flush } = setup();
    const behind = endpoint();
    const ahead = endpoint();
    hub.attach(behind).subscribe(req({ position: { id: '10', count: 10, lineage: 'X' } }));
    hub.attach(ahead).subscribe(req({ position: { id: '12', count: 12, lineage: 'X' } }));
    for (let i = 11; i <= 14; i++) made[0]!.event(String(i));
    flush();
    expect(idsOf(behind)).toEqual(['11', '12', '13', '14']);
    expect(idsOf(ahead)).toEqual(['13', '14']);
    expect(ahead.positions.get(1)).toEqual({ id: '14', count: 14, lineage: 'X' });
  });

  it('a subscriber a little behind catches up from the events the hub keeps, of its types only', () => {
    const { hub, made, flush } = setup();
    hub.attach(endpoint()).subscribe(req());
    for (let i = 1; i <= 6; i++) made[0]!.event(String(i), i % 2 ? 'odd' : 'even');
    flush();
    const late = endpoint();
    hub.attach(late).subscribe(req({ filter: { types: ['even'] }, position: { id: '3', count: 3, lineage: 'L1' } }));
    made[0]!.event('7', 'even');
    flush();
    expect(idsOf(late)).toEqual(['4', '6', '7']);
    expect(late.positions.get(1)).toEqual({ id: '7', count: 7, lineage: 'L1' });
  });

  it('a subscriber further behind than the hub remembers: the upstream goes back, the others skip what they have', () => {
    const { hub, made, flush } = setup({ catchUpChars: 200 });
    const live = endpoint();
    hub.attach(live).subscribe(req());
    for (let i = 1; i <= 20; i++) made[0]!.event(String(i));
    flush();
    const back = endpoint();
    hub.attach(back).subscribe(req({ position: { id: '2', count: 2, lineage: 'L1' } }));
    expect(made[0]!.restarts).toEqual([{ lastEventId: '2' }]);
    // The upstream replays 3..20, then new events come.
    for (let i = 3; i <= 22; i++) made[0]!.event(String(i));
    flush();
    const all = Array.from({ length: 22 }, (_, i) => String(i + 1));
    expect(idsOf(live)).toEqual(all);
    expect(idsOf(back)).toEqual(all.slice(2));
    expect(live.positions.get(1)).toEqual(back.positions.get(1));
  });

  it('a position of another lineage found among the recent ids catches up after it; one not found rewinds by id', () => {
    const { hub, made, flush } = setup();
    const live = endpoint();
    hub.attach(live).subscribe(req());
    for (let i = 1; i <= 5; i++) made[0]!.event(String(i));
    flush();
    const known = endpoint();
    hub.attach(known).subscribe(req({ position: { id: '3', count: 99, lineage: 'other' } }));
    flush();
    expect(idsOf(known)).toEqual(['4', '5']);
    const unknown = endpoint();
    hub.attach(unknown).subscribe(req({ position: { id: 'older', count: 40, lineage: 'other' } }));
    expect(made[0]!.restarts).toEqual([{ lastEventId: 'older' }]);
    // The replay passes the ids the others already have; they skip through the id they stood at.
    for (const i of ['x', '1', '2', '3', '4', '5', '6']) made[0]!.event(i);
    flush();
    expect(idsOf(live)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(idsOf(known)).toEqual(['4', '5', '6']);
    expect(idsOf(unknown)).toEqual(['x', '1', '2', '3', '4', '5', '6']);
  });

  it('a new subscriber starts where the stream stands and is told where that is', () => {
    const { hub, made, flush } = setup();
    hub.attach(endpoint()).subscribe(req());
    made[0]!.event('1');
    flush();
    const late = endpoint();
    hub.attach(late).subscribe(req({ filter: { types: ['other'] } }));
    flush();
    expect(idsOf(late)).toEqual([]);
    expect(late.positions.get(1)).toEqual({ id: '1', count: 1, lineage: 'L1' });
  });

  it('on a topic stream, positions are protocol cursors, ordered whatever the lineage', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const topics = { types: ['*'], topics: ['t'] };
    hub.attach(a).subscribe(req({ spec: spec({ topics: true }), filter: topics, position: { id: '5-0', count: 1, lineage: 'p' } }));
    const b = endpoint();
    hub.attach(b).subscribe(req({ spec: spec({ topics: true }), filter: topics, position: { id: '7-0', count: 900, lineage: 'q' } }));
    for (const c of ['6-0', '7-0', '8-0']) made[0]!.event(c, 'message', `t\nd${c}`);
    flush();
    expect(idsOf(a)).toEqual(['6-0', '7-0', '8-0']);
    expect(idsOf(b)).toEqual(['8-0']);
  });
});

describe('createHub: catch-up memory', () => {
  it('is bounded by characters, not events: large events do not pile up', () => {
    const { hub, made, flush } = setup({ catchUpChars: 3000 });
    hub.attach(endpoint()).subscribe(req());
    for (let i = 1; i <= 10; i++) made[0]!.event(String(i), 'message', 'x'.repeat(1000));
    flush();
    // Only the last two fit: a subscriber at 7 is beyond it, one at 8 is not.
    const at8 = endpoint();
    hub.attach(at8).subscribe(req({ position: { id: '8', count: 8, lineage: 'L1' } }));
    flush();
    expect(idsOf(at8)).toEqual(['9', '10']);
    hub.attach(endpoint()).subscribe(req({ position: { id: '7', count: 7, lineage: 'L1' } }));
    expect(made[0]!.restarts).toEqual([{ lastEventId: '7' }]);
  });

  it('keeps nothing when told to, and nothing across an event without an id', () => {
    const { hub, made, flush } = setup();
    hub.attach(endpoint()).subscribe(req());
    made[0]!.event('1');
    made[0]!.event('');
    made[0]!.event('');
    flush();
    hub.attach(endpoint()).subscribe(req({ position: { id: '1', count: 1, lineage: 'L1' } }));
    expect(made[0]!.restarts).toEqual([{ lastEventId: '1' }]);
  });
});

describe('createHub: lifecycle', () => {
  it('close() with no subscriber left closes the upstream at once; a page leaving keeps it for graceMs', () => {
    const { hub, made } = setup({ graceMs: 3000 });
    const a = hub.attach(endpoint());
    a.subscribe(req());
    a.unsubscribe(1, false);
    expect(made[0]!.closed).toBe(true);
    const b = hub.attach(endpoint());
    b.subscribe(req());
    b.detach();
    expect(made[1]!.closed).toBe(false);
    vi.advanceTimersByTime(2999);
    expect(made[1]!.closed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(made[1]!.closed).toBe(true);
  });

  it('a subscriber that comes back within the grace keeps the same upstream', () => {
    const { hub, made, connect } = setup();
    const a = hub.attach(endpoint());
    a.subscribe(req());
    a.detach();
    vi.advanceTimersByTime(1000);
    hub.attach(endpoint()).subscribe(req());
    vi.advanceTimersByTime(5000);
    expect(connect).toHaveBeenCalledTimes(1);
    expect(made[0]!.closed).toBe(false);
  });

  it('graceMs 0 (sharing none) never waits', () => {
    const { hub, made } = setup({ graceMs: 0 });
    const a = hub.attach(endpoint());
    a.subscribe(req());
    a.detach();
    expect(made[0]!.closed).toBe(true);
  });

  it('a late subscriber gets the current status at once; a stream closed for good is forgotten', () => {
    const { hub, made, connect, flush } = setup();
    const a = endpoint();
    hub.attach(a).subscribe(req());
    made[0]!.status('open');
    const b = endpoint();
    hub.attach(b).subscribe(req());
    flush();
    expect(statesOf(b)).toEqual(['open']);
    made[0]!.status('closed');
    hub.attach(endpoint()).subscribe(req());
    expect(connect).toHaveBeenCalledTimes(2);
  });

  it('close() ends every upstream at once', () => {
    const { hub, made } = setup();
    hub.attach(endpoint()).subscribe(req());
    hub.attach(endpoint()).subscribe(req({ spec: spec({ credentialsKey: 'b' }) }));
    hub.close();
    expect(made.map((m) => m.closed)).toEqual([true, true]);
  });
});

describe('createHub: headers providers', () => {
  const headersOf = async (made: FakeConnection) => made.options.headers();

  it('fixed headers are used when no subscriber has a provider', async () => {
    const { hub, made } = setup();
    hub.attach(endpoint()).subscribe(req({ spec: { ...spec(), headers: { A: '1' } } }));
    expect(await headersOf(made[0]!)).toEqual({ A: '1' });
  });

  it('asks the subscriber that answered last first', async () => {
    const { hub, made } = setup();
    const a = endpoint(async () => ({ who: 'a' }));
    const b = endpoint(async () => ({ who: 'b' }));
    hub.attach(a).subscribe(req({ provider: true }));
    hub.attach(b).subscribe(req({ provider: true }));
    expect(await headersOf(made[0]!)).toEqual({ who: 'a' });
    a.headers = () => Promise.reject(new Error('moved'));
    expect(await headersOf(made[0]!)).toEqual({ who: 'b' });
    a.headers = async () => ({ who: 'a' });
    expect(await headersOf(made[0]!)).toEqual({ who: 'b' });
  });

  it('a provider that hangs is not waited for alone: after staggerMs the next is asked, and the first answer wins', async () => {
    const { hub, made } = setup({ staggerMs: 1500 });
    const hung = endpoint(() => new Promise(() => {}));
    const ok = endpoint(async () => ({ who: 'ok' }));
    hub.attach(hung).subscribe(req({ provider: true }));
    hub.attach(ok).subscribe(req({ provider: true }));
    const answer = headersOf(made[0]!);
    await vi.advanceTimersByTimeAsync(1499);
    expect(ok.headersCalls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await answer).toEqual({ who: 'ok' });
  });

  it('no answer within headersTimeoutMs is a headers error', async () => {
    const { hub, made } = setup();
    hub.attach(endpoint(() => new Promise(() => {}))).subscribe(req({ provider: true, spec: spec({ headersTimeoutMs: 2000 }) }));
    const answer = headersOf(made[0]!);
    const check = expect(answer).rejects.toMatchObject({ code: 'headers', message: expect.stringMatching(/2000 ms/) });
    await vi.advanceTimersByTimeAsync(2000);
    await check;
  });

  it('when every provider rejects, the last error is the answer', async () => {
    const { hub, made } = setup();
    hub.attach(endpoint(() => Promise.reject(new Error('one')))).subscribe(req({ provider: true }));
    hub.attach(endpoint(() => Promise.reject(new Error('two')))).subscribe(req({ provider: true }));
    await expect(headersOf(made[0]!)).rejects.toThrow('two');
  });
});

describe('createHub: topics', () => {
  const topicSpec = spec({ topics: true });
  const on = (topics: string[], types = ['*']) => ({ types, topics });
  /** The server sends an event of `topic`: its first data line names it. */
  const send = (made: FakeConnection, cursor: string, topic: string, type = 'message') => made.event(cursor, type, `${topic}\n{"c":"${cursor}"}`);
  const topicsOf = (made: FakeConnection) => new URL(made.options.url).searchParams.getAll('topic');
  const lastRestart = (made: FakeConnection) => made.restarts.at(-1)!;

  it('one upstream carries the union; each subscriber gets its own topics, the topic line taken off the data', async () => {
    const { hub, made, connect, flush } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe(req({ spec: topicSpec, filter: on(['news']) }));
    expect(topicsOf(made[0]!)).toEqual(['news']);
    expect(made[0]!.options.prelude).toBe(true);
    made[0]!.idOnly('1-0');
    hub.attach(b).subscribe(req({ spec: topicSpec, filter: on(['jobs/42']) }));
    await vi.advanceTimersByTimeAsync(TOPICS_DEBOUNCE_MS);
    expect(connect).toHaveBeenCalledTimes(1);
    expect(new URL(lastRestart(made[0]!).url!).searchParams.getAll('topic')).toEqual(['jobs/42', 'news']);
    send(made[0]!, '1-1', 'news');
    send(made[0]!, '1-2', 'jobs/42');
    flush();
    expect(eventsOf(a)).toEqual([{ type: 'message', data: '{"c":"1-1"}', id: '1-1', topic: 'news' }]);
    expect(eventsOf(b)).toEqual([{ type: 'message', data: '{"c":"1-2"}', id: '1-2', topic: 'jobs/42' }]);
  });

  it('a topic added is read from where the subscriber asked for it: the upstream goes back there, the others skip what they have', async () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe(req({ spec: topicSpec, filter: on(['a']) }));
    made[0]!.idOnly('1-5');
    flush();
    // B asks for topic b at 1-5; before the upstream carries it, an event of a arrives.
    hub.attach(b).subscribe(req({ spec: topicSpec, filter: on(['b']) }));
    send(made[0]!, '1-6', 'a');
    flush();
    await vi.advanceTimersByTimeAsync(TOPICS_DEBOUNCE_MS);
    // One reconnect, from where B asked.
    expect(made[0]!.restarts).toHaveLength(1);
    expect(lastRestart(made[0]!).lastEventId).toBe('1-5');
    // The replay from 1-5 with both topics: b's event at 1-7 was published before the reconnect.
    send(made[0]!, '1-6', 'a');
    send(made[0]!, '1-7', 'b');
    send(made[0]!, '1-8', 'a');
    flush();
    expect(idsOf(a)).toEqual(['1-6', '1-8']);
    expect(idsOf(b)).toEqual(['1-7']);
    expect(a.positions.get(1)).toEqual(b.positions.get(1));
  });

  it('changes within the debounce window cost one reconnect; a topic dropped stops reaching its subscriber at once', async () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const peer = hub.attach(a);
    peer.subscribe(req({ spec: topicSpec, filter: on(['x', 'y']) }));
    made[0]!.idOnly('1-1');
    flush();
    peer.update(1, on(['x']), a.positions.get(1)!);
    send(made[0]!, '1-2', 'y');
    peer.update(1, on(['x', 'z']), a.positions.get(1)!);
    hub.attach(endpoint()).subscribe(req({ sub: 2, spec: topicSpec, filter: on(['w']) }));
    await vi.advanceTimersByTimeAsync(TOPICS_DEBOUNCE_MS);
    flush();
    expect(idsOf(a)).toEqual([]);
    expect(made[0]!.restarts).toHaveLength(1);
    // It was told the stream stood at 1-2 before the upstream went back; it skips to there.
    expect(a.positions.get(1)?.id).toBe('1-2');
    expect(new URL(lastRestart(made[0]!).url!).searchParams.getAll('topic')).toEqual(['w', 'x', 'z']);
    // z was asked for at 1-1: the upstream went back there for it.
    expect(lastRestart(made[0]!).lastEventId).toBe('1-1');
    // Dropping a topic needs no going back: the upstream resumes from where the stream stands.
    send(made[0]!, '1-3', 'x');
    flush();
    peer.update(1, on(['z']), a.positions.get(1)!);
    await vi.advanceTimersByTimeAsync(TOPICS_DEBOUNCE_MS);
    expect(made[0]!.restarts).toHaveLength(2);
    expect(lastRestart(made[0]!)).toMatchObject({ lastEventId: '1-3', body: null });
  });

  it('a topic added that the upstream already carries is read from where the subscriber stood, from the hub memory', async () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe(req({ spec: topicSpec, filter: on(['x', 'y']) }));
    const peer = hub.attach(b);
    peer.subscribe(req({ spec: topicSpec, filter: on(['x']) }));
    made[0]!.idOnly('1-1');
    flush();
    const stoodAt = b.positions.get(1)!;
    // y events reach the hub before B's change does.
    send(made[0]!, '1-2', 'y');
    send(made[0]!, '1-3', 'x');
    peer.update(1, on(['x', 'y']), stoodAt);
    send(made[0]!, '1-4', 'y');
    flush();
    await vi.advanceTimersByTimeAsync(TOPICS_DEBOUNCE_MS);
    expect(made[0]!.restarts).toEqual([]);
    expect(idsOf(b)).toEqual(['1-2', '1-3', '1-4']);
  });

  it('a union too long for a URL is sent in a POST body', async () => {
    const { hub, made } = setup();
    const many = Array.from({ length: 200 }, (_, i) => `topic-number-${i}`);
    hub.attach(endpoint()).subscribe(req({ spec: topicSpec, filter: on(many) }));
    expect(made[0]!.options).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:9/stream' });
    expect(JSON.parse(made[0]!.options.body!)).toEqual({ topics: [...many].sort() });
  });

  it('no topic yet: nothing opens until a subscriber names one', async () => {
    const { hub, connect } = setup();
    const peer = hub.attach(endpoint());
    peer.subscribe(req({ spec: topicSpec, filter: on([]) }));
    expect(connect).not.toHaveBeenCalled();
    peer.update(1, on(['late']), START);
    await vi.advanceTimersByTimeAsync(TOPICS_DEBOUNCE_MS);
    expect(connect).toHaveBeenCalledTimes(1);
  });

  it('ssemux:reset becomes a gap in every status; ssemux:denied a forbidden error for the subscribers of those topics; neither is an event', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const b = endpoint();
    hub.attach(a).subscribe(req({ spec: topicSpec, filter: on(['ok', 'secret']) }));
    hub.attach(b).subscribe(req({ spec: topicSpec, filter: on(['ok']) }));
    made[0]!.status('open');
    made[0]!.event('', 'ssemux:denied', '["secret"]');
    made[0]!.event('1-9', 'ssemux:reset', '{"from":"1-2","reason":"retention"}');
    send(made[0]!, '1-10', 'ok');
    flush();
    const errors = (ep: Ep) => ep.deliveries.flat().flatMap((f) => ('status' in f && f.status.error ? [f.status.error] : []));
    expect(errors(a)).toEqual([
      { code: 'forbidden', status: 403, message: expect.stringMatching(/secret/) },
      { code: 'gap', message: expect.stringMatching(/1-2.*retention/) },
    ]);
    expect(errors(b)).toEqual([{ code: 'gap', message: expect.stringMatching(/1-2/) }]);
    expect(idsOf(a)).toEqual(['1-10']);
    expect(b.positions.get(1)?.id).toBe('1-10');
  });

  for (const topic of ['constructor', 'toString', '__proto__']) {
    it(`a tab joining the topic ${topic} (a name Object.prototype has) is told where it has it up to, in a frame that crosses to the tab`, () => {
      const { hub, made, flush } = setup();
      const a = endpoint();
      const b = endpoint();
      hub.attach(a).subscribe(req({ spec: topicSpec, filter: on(['a']) }));
      made[0]!.idOnly('1-5');
      flush();
      // b asks for a topic the upstream does not carry yet: it joins it from where the stream stands.
      hub.attach(b).subscribe(req({ spec: topicSpec, filter: on([topic]) }));
      flush();
      const frame = b.deliveries.flat().filter((f) => 'events' in f && f.joining !== undefined).at(-1) as EventsFrame;
      expect(Object.keys(frame.joining!)).toEqual([topic]);
      expect(Object.getOwnPropertyDescriptor(frame.joining, topic)?.value).toMatchObject({ id: '1-5' });
      // What a SharedWorker's port or a leader's BroadcastChannel does with every frame.
      expect(Object.getOwnPropertyDescriptor(structuredClone(frame).joining, topic)?.value).toMatchObject({ id: '1-5' });
    });
  }
});
