import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ONE_TAKEOVER_HOLD_MS } from '../../src/protocol/limits.js';
import type { Position } from '../../src/protocol/stream.js';
import type { EventsFrame, TabsFrame } from '../../src/protocol/tab-hub-messages.js';
import { endpoint, req, setup, spec, type Ep } from './hub-helpers.js';

// What tabs of one stream know of each other through their hub: `tabs: 'one'` listeners, the
// last event of a type (`latest: true`), and how many tabs there are.

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const eventsFrames = (ep: Ep, sub = 1): EventsFrame[] => ep.deliveries.flat().filter((f): f is EventsFrame => 'events' in f && f.sub === sub);
/** Ids of the events handed to `sub`'s `tabs: 'one'` listeners, with their numbers. */
const oneOf = (ep: Ep, sub = 1): { id: string; seq: number }[] =>
  eventsFrames(ep, sub).flatMap((f) => (f.one ?? []).map((e, i) => ({ id: e.id, seq: f.oneSeq! + i })));
const latestOf = (ep: Ep, sub = 1): string[] => eventsFrames(ep, sub).flatMap((f) => (f.latest ?? []).map((e) => `${e.type}:${e.id}`));
const tabsOf = (ep: Ep, sub = 1) => ep.deliveries.flat().flatMap((f) => ('tabs' in f && f.sub === sub ? [(f as TabsFrame).tabs] : []));
/** Where `sub` last heard the stream's one-events were done. */
const oneDoneOf = (ep: Ep, sub = 1): Position | undefined => eventsFrames(ep, sub).filter((f) => f.oneDone).at(-1)?.oneDone;

const ONE = { types: ['notify', 'tick'], one: ['notify'] };

describe("tabs: 'one'", () => {
  it('each event is handed to one tab: the visible one focused last; every tab still gets every event for its other listeners', () => {
    const { hub, made, flush } = setup();
    const [a, b, c] = [endpoint(), endpoint(), endpoint()];
    const [pa, pb, pc] = [hub.attach(a), hub.attach(b), hub.attach(c)];
    pa.visibility(true, 100);
    pb.visibility(true, 200);
    pc.visibility(false, 300);
    for (const p of [pa, pb, pc]) p.subscribe(req({ filter: ONE }));
    for (let i = 1; i <= 5; i++) made[0]!.event(String(i), i === 3 ? 'tick' : 'notify');
    flush();
    expect(oneOf(b).map((e) => e.id)).toEqual(['1', '2', '4', '5']);
    expect(oneOf(a)).toEqual([]);
    expect(oneOf(c)).toEqual([]);
    for (const ep of [a, b, c]) expect(eventsFrames(ep).flatMap((f) => f.events.map((e) => e.id))).toEqual(['1', '2', '3', '4', '5']);
    // Another tab is focused: what comes next goes there.
    pa.visibility(true, 400);
    made[0]!.event('6', 'notify');
    flush();
    expect(oneOf(a).map((e) => e.id)).toEqual(['6']);
    expect(oneOf(b)).toHaveLength(4);
  });

  it('a tab that leaves hands what it did not run to the next tab, and what it ran to no one', () => {
    const { hub, made, flush } = setup();
    const [a, b] = [endpoint(), endpoint()];
    const [pa, pb] = [hub.attach(a), hub.attach(b)];
    pa.visibility(true, 100);
    pb.visibility(true, 200);
    pa.subscribe(req({ filter: ONE }));
    pb.subscribe(req({ filter: ONE }));
    for (let i = 1; i <= 5; i++) made[0]!.event(String(i), 'notify');
    flush();
    const handed = oneOf(b);
    expect(handed.map((e) => e.id)).toEqual(['1', '2', '3', '4', '5']);
    // It ran three, then its page went away.
    pb.ran(1, handed[2]!.seq);
    pb.detach();
    flush();
    expect(oneOf(a).map((e) => e.id)).toEqual(['4', '5']);
    made[0]!.event('6', 'notify');
    flush();
    expect(oneOf(a).map((e) => e.id)).toEqual(['4', '5', '6']);
  });

  it('a tab runs what it was handed only once the hub says go for what it claimed; a claim for nothing it holds gets none', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    const pa = hub.attach(a);
    pa.subscribe(req({ filter: ONE }));
    made[0]!.event('1', 'notify');
    made[0]!.event('2', 'notify');
    flush();
    const handed = oneOf(a);
    expect(eventsFrames(a).some((f) => f.oneGo !== undefined)).toBe(false);
    pa.claim(1, handed[1]!.seq);
    flush();
    expect(eventsFrames(a).at(-1)!.oneGo).toBe(handed[1]!.seq);
    pa.ran(1, handed[1]!.seq);
    pa.claim(1, handed[1]!.seq);
    flush();
    expect(eventsFrames(a).filter((f) => f.oneGo !== undefined)).toHaveLength(1);
  });

  it('a new hub hands out none of the one-events a tab says it ran, though they come after where the one-events were done', () => {
    const { hub, made, flush } = setup();
    const a = endpoint();
    hub.attach(a).subscribe(req({ filter: ONE, position: { id: '3', count: 3, lineage: 'L' }, oneDone: { id: '1', count: 1, lineage: 'L' }, oneRan: ['2', '3'] }));
    expect(made[0]!.options.lastEventId).toBe('1');
    for (let i = 2; i <= 4; i++) made[0]!.event(String(i), 'notify');
    vi.advanceTimersByTime(ONE_TAKEOVER_HOLD_MS);
    flush();
    expect(oneOf(a).map((e) => e.id)).toEqual(['4']);
  });

  it('a new hub hands out no one-event until the tabs of the dead one had time to come back and say which they ran', () => {
    const { hub, made, flush } = setup();
    const [behind, runner] = [endpoint(), endpoint()];
    const L = (id: string) => ({ id, count: Number(id), lineage: 'L' });
    // The first tab back heard the one-events were done through 1; the tab that ran them is ahead of it.
    hub.attach(behind).subscribe(req({ filter: ONE, position: L('4'), oneDone: L('1') }));
    expect(made[0]!.options.lastEventId).toBe('1');
    made[0]!.event('2', 'notify');
    flush();
    expect(oneOf(behind)).toEqual([]);
    // The tab that ran them comes back: the upstream goes back for it, and reads them again.
    hub.attach(runner).subscribe(req({ filter: ONE, position: L('4'), oneDone: L('1'), oneRan: ['2', '3', '4'] }));
    expect(made[0]!.restarts.at(-1)).toMatchObject({ lastEventId: '1' });
    for (let i = 2; i <= 5; i++) made[0]!.event(String(i), 'notify');
    vi.advanceTimersByTime(ONE_TAKEOVER_HOLD_MS - 1);
    flush();
    expect([...oneOf(behind), ...oneOf(runner)]).toEqual([]);
    vi.advanceTimersByTime(1);
    flush();
    expect([...oneOf(behind), ...oneOf(runner)].map((e) => e.id)).toEqual(['5']);
  });

  it('with no tab left to take them, they wait for the next tab that listens', () => {
    const { hub, made, flush } = setup();
    const [a, plain, late] = [endpoint(), endpoint(), endpoint()];
    const pa = hub.attach(a);
    pa.subscribe(req({ filter: ONE }));
    hub.attach(plain).subscribe(req({ filter: { types: ['notify'] } }));
    made[0]!.event('1', 'notify');
    made[0]!.event('2', 'notify');
    flush();
    expect(oneOf(a).map((e) => e.id)).toEqual(['1', '2']);
    pa.unsubscribe(1, false);
    flush();
    // A tab without tabs: 'one' listeners never takes them.
    expect(oneOf(plain)).toEqual([]);
    hub.attach(late).subscribe(req({ filter: ONE }));
    flush();
    expect(oneOf(late).map((e) => e.id)).toEqual(['1', '2']);
  });

  it('published while the only listening tab reloads (its page left, the next not yet there): they wait for it', () => {
    const { hub, made, flush } = setup();
    const [a, plain, reloaded] = [endpoint(), endpoint(), endpoint()];
    const pa = hub.attach(a);
    pa.subscribe(req({ filter: ONE }));
    hub.attach(plain).subscribe(req({ filter: { types: ['notify', 'tick'] } }));
    made[0]!.event('1', 'notify');
    flush();
    pa.ran(1, oneOf(a)[0]!.seq);
    pa.detach(); // pagehide of the reload
    made[0]!.event('2', 'notify');
    made[0]!.event('3', 'tick');
    flush();
    hub.attach(reloaded).subscribe(req({ filter: ONE }));
    flush();
    expect(oneOf(reloaded).map((e) => e.id)).toEqual(['2']);
    expect(oneOf(plain)).toEqual([]);
  });

  it('a tab that stops listening to one of its one-types hands what it holds of that type to a tab that still listens', () => {
    const { hub, made, flush } = setup();
    const [a, b] = [endpoint(), endpoint()];
    const [pa, pb] = [hub.attach(a), hub.attach(b)];
    pa.visibility(true, 100);
    pb.visibility(true, 200);
    const both = { types: ['notify', 'alert'], one: ['notify', 'alert'] };
    pa.subscribe(req({ filter: both }));
    pb.subscribe(req({ filter: both }));
    made[0]!.event('1', 'notify');
    made[0]!.event('2', 'alert');
    flush();
    expect(oneOf(b).map((e) => e.id)).toEqual(['1', '2']);
    // b's notify listener goes (a route change) before it ran them: its alert one stays.
    pb.update(1, { types: ['alert'], one: ['alert'] }, { id: '2', count: 2, lineage: 'L1' });
    flush();
    expect(oneOf(a).map((e) => e.id)).toEqual(['1']);
    made[0]!.event('3', 'notify');
    flush();
    expect(oneOf(a).map((e) => e.id)).toEqual(['1', '3']);
  });

  it('a new hub hands out only what was not done: the tabs bring where the one-events were done, and the upstream goes back there', () => {
    const first = setup();
    const [a, b] = [endpoint(), endpoint()];
    const [pa, pb] = [first.hub.attach(a), first.hub.attach(b)];
    pa.visibility(true, 200);
    pb.visibility(true, 100);
    pa.subscribe(req({ filter: ONE }));
    pb.subscribe(req({ filter: ONE }));
    for (let i = 1; i <= 4; i++) first.made[0]!.event(String(i), 'notify');
    first.flush();
    const handed = oneOf(a);
    expect(handed.map((e) => e.id)).toEqual(['1', '2', '3', '4']);
    pa.ran(1, handed[1]!.seq);
    first.flush();
    // Both heard that the one-events were done through 2; then the hub died (a worker restart).
    expect(oneDoneOf(a)).toMatchObject({ id: '2' });
    expect(oneDoneOf(b)).toMatchObject({ id: '2' });
    expect(a.positions.get(1)).toMatchObject({ id: '4' });

    const second = setup();
    const [a2, b2] = [endpoint(), endpoint()];
    const [qa, qb] = [second.hub.attach(a2), second.hub.attach(b2)];
    qb.visibility(true, 300);
    qa.visibility(true, 200);
    qb.subscribe(req({ filter: ONE, position: b.positions.get(1)!, oneDone: oneDoneOf(b)! }));
    qa.subscribe(req({ filter: ONE, position: a.positions.get(1)!, oneDone: oneDoneOf(a)! }));
    // The new upstream resumes from where the one-events were done.
    expect(second.made[0]!.options.lastEventId).toBe('2');
    for (let i = 3; i <= 6; i++) second.made[0]!.event(String(i), 'notify');
    vi.advanceTimersByTime(ONE_TAKEOVER_HOLD_MS);
    second.flush();
    expect(oneOf(b2).map((e) => e.id)).toEqual(['3', '4', '5', '6']);
    expect(oneOf(a2)).toEqual([]);
    // Neither tab gets again the events it had for its other listeners.
    for (const ep of [a2, b2]) expect(eventsFrames(ep).flatMap((f) => f.events.map((e) => e.id))).toEqual(['5', '6']);
  });

  it('a tab that brings where the one-events were done after the new upstream opened elsewhere: the upstream goes back for them', () => {
    const first = setup();
    const [a, plain] = [endpoint(), endpoint()];
    const pa = first.hub.attach(a);
    pa.subscribe(req({ filter: ONE }));
    first.hub.attach(plain).subscribe(req({ filter: { types: ['notify'] } }));
    for (let i = 1; i <= 4; i++) first.made[0]!.event(String(i), 'notify');
    first.flush();
    pa.ran(1, oneOf(a)[0]!.seq);
    first.flush();
    expect(oneDoneOf(a)).toMatchObject({ id: '1' });

    // The tab without one-listeners resubscribes first: the new upstream starts where it stands.
    const second = setup();
    const [a2, plain2] = [endpoint(), endpoint()];
    second.hub.attach(plain2).subscribe(req({ filter: { types: ['notify'] }, position: plain.positions.get(1)! }));
    expect(second.made[0]!.options.lastEventId).toBe('4');
    second.hub.attach(a2).subscribe(req({ filter: ONE, position: a.positions.get(1)!, oneDone: oneDoneOf(a)! }));
    expect(second.made[0]!.restarts.at(-1)).toMatchObject({ lastEventId: '1' });
    for (let i = 2; i <= 5; i++) second.made[0]!.event(String(i), 'notify');
    vi.advanceTimersByTime(ONE_TAKEOVER_HOLD_MS);
    second.flush();
    expect(oneOf(a2).map((e) => e.id)).toEqual(['2', '3', '4', '5']);
    for (const ep of [a2, plain2]) expect(eventsFrames(ep).flatMap((f) => f.events.map((e) => e.id))).toEqual(['5']);
  });
});

describe('latest: true', () => {
  it('a subscriber that asks gets the last event of its types at once, before live ones; one that does not ask gets none', () => {
    const { hub, made, flush } = setup();
    const [first, late, plain] = [endpoint(), endpoint(), endpoint()];
    hub.attach(first).subscribe(req({ filter: { types: ['price', 'news'], latest: ['price'] } }));
    made[0]!.event('1', 'price');
    made[0]!.event('2', 'news');
    made[0]!.event('3', 'price');
    flush();
    expect(latestOf(first)).toEqual([]);
    hub.attach(late).subscribe(req({ filter: { types: ['price', 'news'], latest: ['price', 'news'] } }));
    hub.attach(plain).subscribe(req({ filter: { types: ['price'] } }));
    flush();
    // 'news' was not kept: nobody had asked for it.
    expect(latestOf(late)).toEqual(['price:3']);
    expect(latestOf(plain)).toEqual([]);
    made[0]!.event('4', 'news');
    flush();
    hub.attach(endpoint()).subscribe(req({ filter: { types: ['news'], latest: ['news'] } }));
    const newest = endpoint();
    hub.attach(newest).subscribe(req({ filter: { types: ['*'], latest: ['price', 'news'] } }));
    flush();
    expect(latestOf(newest)).toEqual(['price:3', 'news:4']);
  });

  it('on a topic stream there is one last event per type and topic; a reset forgets them', () => {
    const { hub, made, flush } = setup();
    const topics = (list: string[]) => ({ types: ['p'], topics: list, latest: ['p'] });
    hub.attach(endpoint()).subscribe(req({ spec: spec({ topics: true }), filter: topics(['x', 'y']) }));
    vi.advanceTimersByTime(100);
    made[0]!.event('1-1', 'p', 'x\na');
    made[0]!.event('1-2', 'p', 'y\nb');
    made[0]!.event('1-3', 'p', 'x\nc');
    flush();
    const onlyX = endpoint();
    hub.attach(onlyX).subscribe(req({ spec: spec({ topics: true }), filter: topics(['x']) }));
    flush();
    expect(latestOf(onlyX)).toEqual(['p:1-3']);
    made[0]!.event('1-4', 'ssemux:reset', '{"from":"1-3","reason":"retention"}');
    const after = endpoint();
    hub.attach(after).subscribe(req({ spec: spec({ topics: true }), filter: topics(['x', 'y']) }));
    flush();
    expect(latestOf(after)).toEqual([]);
  });

  it('is bounded by characters: an event larger than the bound is not kept, and forgets the older one of its type', () => {
    const { hub, made, flush } = setup({ latestChars: 100 });
    hub.attach(endpoint()).subscribe(req({ filter: { types: ['a', 'b'], latest: ['a', 'b'] } }));
    made[0]!.event('1', 'a', 'x'.repeat(40));
    made[0]!.event('2', 'b', 'y'.repeat(40));
    made[0]!.event('3', 'a', 'z'.repeat(40));
    flush();
    const one = endpoint();
    hub.attach(one).subscribe(req({ filter: { types: ['a', 'b'], latest: ['a', 'b'] } }));
    flush();
    expect(latestOf(one)).toEqual(['b:2', 'a:3']);
    made[0]!.event('4', 'a', 'w'.repeat(200));
    flush();
    const two = endpoint();
    hub.attach(two).subscribe(req({ filter: { types: ['a', 'b'], latest: ['a', 'b'] } }));
    flush();
    expect(latestOf(two)).toEqual(['b:2']);
  });
});

describe('the tabs of a stream', () => {
  it('every subscription hears how many tabs read its stream and how many are visible; two clients of one tab are one tab', () => {
    const { hub, flush } = setup();
    const [a, b] = [endpoint(), endpoint()];
    const pa = hub.attach(a);
    pa.visibility(true);
    pa.subscribe(req());
    pa.subscribe(req({ sub: 2 }));
    flush();
    expect(tabsOf(a).at(-1)).toEqual({ count: 1, visible: 1 });
    const pb = hub.attach(b);
    pb.visibility(false);
    pb.subscribe(req());
    flush();
    expect(tabsOf(a).at(-1)).toEqual({ count: 2, visible: 1 });
    expect(tabsOf(a, 2).at(-1)).toEqual({ count: 2, visible: 1 });
    expect(tabsOf(b).at(-1)).toEqual({ count: 2, visible: 1 });
    pb.visibility(true);
    flush();
    expect(tabsOf(a).at(-1)).toEqual({ count: 2, visible: 2 });
    pb.detach();
    flush();
    expect(tabsOf(a).at(-1)).toEqual({ count: 1, visible: 1 });
    // Another stream's tabs are not counted.
    hub.attach(endpoint()).subscribe(req({ spec: spec({ url: 'http://127.0.0.1:9/other' }) }));
    flush();
    expect(tabsOf(a).at(-1)).toEqual({ count: 1, visible: 1 });
  });
});

describe('presence (ssemux:presence)', () => {
  const PRESENCE = (topic: string, users: string) => `${topic}\n{"members":[${users}],"anonymous":0}`;

  it('a subscriber that listens to it by name makes the upstream ask for it; it gets the presence of its topics, and nobody else does', () => {
    const { hub, made, flush } = setup();
    const [watcher, all] = [endpoint(), endpoint()];
    hub.attach(all).subscribe(req({ spec: spec({ topics: true }), filter: { types: ['*'], topics: ['room'] } }));
    vi.advanceTimersByTime(100);
    expect(made[0]!.options.url).not.toContain('presence=1');
    const p = hub.attach(watcher);
    p.subscribe(req({ spec: spec({ topics: true }), filter: { types: ['msg', 'ssemux:presence'], topics: ['room'] } }));
    vi.advanceTimersByTime(100);
    expect(made[0]!.restarts.at(-1)!.url).toContain('presence=1');
    made[0]!.event('1-1', 'msg', 'room\nhello');
    made[0]!.event('', 'ssemux:presence', PRESENCE('room', '{"user":"alice","browsers":2}'));
    made[0]!.event('', 'ssemux:presence', PRESENCE('other', ''));
    flush();
    const got = eventsFrames(watcher).flatMap((f) => f.events.map((e) => `${e.type}:${e.topic}`));
    expect(got).toEqual(['msg:room', 'ssemux:presence:room']);
    expect(eventsFrames(all).flatMap((f) => f.events.map((e) => e.type))).toEqual(['msg']);
    // The log's position does not move with it.
    expect(watcher.positions.get(1)).toMatchObject({ id: '1-1', count: 1 });
    // A newcomer asking for the latest gets who reads the room now.
    const late = endpoint();
    hub.attach(late).subscribe(req({ spec: spec({ topics: true }), filter: { types: ['ssemux:presence'], topics: ['room'], latest: ['ssemux:presence'] } }));
    flush();
    expect(latestOf(late)).toEqual(['ssemux:presence:1-1']);
  });

  it("a tab with '*' and a presence listener gets presence when a tab with '*' alone reads the same topics (they share no array)", () => {
    const { hub, made, flush } = setup();
    const [plain, watcher] = [endpoint(), endpoint()];
    const typesOf = (ep: Ep) => ep.deliveries.flat().flatMap((f) => ('events' in f ? f.events.map((e) => `${e.type}:${e.topic}`) : []));
    hub.attach(plain).subscribe(req({ spec: spec({ topics: true }), filter: { types: ['*'], topics: ['room'] } }));
    hub.attach(watcher).subscribe(req({ spec: spec({ topics: true }), filter: { types: ['*', 'ssemux:presence'], topics: ['room'] } }));
    vi.advanceTimersByTime(100);
    made[0]!.event('1-1', 'msg', 'room\nhello');
    made[0]!.event('', 'ssemux:presence', 'room\n{"members":[{"user":"alice","browsers":1}],"anonymous":0}');
    flush();
    expect(typesOf(plain)).toEqual(['msg:room']);
    expect(typesOf(watcher)).toEqual(['msg:room', 'ssemux:presence:room']);
  });

  it("a subscriber with a '*' listener and a presence listener gets presence: '*' does not hide the type it names", () => {
    const { hub, made, flush } = setup();
    const tab = endpoint();
    hub.attach(tab).subscribe(req({ spec: spec({ topics: true }), filter: { types: ['*', 'ssemux:presence'], topics: ['room'] } }));
    vi.advanceTimersByTime(100);
    expect(made[0]!.options.url).toContain('presence=1');
    made[0]!.event('1-1', 'msg', 'room\nhello');
    made[0]!.event('', 'ssemux:presence', PRESENCE('room', '{"user":"alice","browsers":1}'));
    flush();
    expect(eventsFrames(tab).flatMap((f) => f.events.map((e) => `${e.type}:${e.topic}`))).toEqual(['msg:room', 'ssemux:presence:room']);
  });
});
