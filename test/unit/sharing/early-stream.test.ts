import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type RealtimeClient } from '../../../src/client/create-realtime-client.js';
import { createHub } from '../../../src/hub/hub.js';
import type { EventMap, RealtimeClientOptions, RealtimeMessage, RealtimeStatus } from '../../../src/protocol/types.js';
import { serveSharedWorker } from '../../../src/sharing/shared-worker-host.js';
import { installFakePlatform, type FakePlatform } from '../../support/fake-platform.js';
import { until } from '../../support/fake-time.js';
import { EARLY_HANDOVER_MS } from '../../../src/protocol/limits.js';
import { createFakeServer, FAKE_TIMERS, openTab, URL_A, WORKER_URL, type FakeServer, type Tab } from './helpers.js';

// The first tab of an origin reads its stream with the platform's EventSource while its worker
// starts (src/client/early-stream.ts), then the worker takes over after the last event it got.
// The platform's EventSource is a fake the test drives; the worker, its hub and the server are
// those of the other sharing tests.

let platform: FakePlatform;
let server: FakeServer;
/** Every client a test made, closed after it: none reads on into the next test. */
const clients: RealtimeClient<EventMap>[] = [];

/** The platform's EventSource, as the test drives it: it receives what the test says. */
class FakeEventSource extends EventTarget {
  static made: FakeEventSource[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(
    readonly url: string,
    readonly init?: EventSourceInit,
  ) {
    super();
    FakeEventSource.made.push(this);
  }
  open(): void {
    if (this.readyState !== 0) return;
    this.readyState = 1;
    this.onopen?.();
  }
  emit(type: string, data: string, lastEventId: string): void {
    if (this.readyState !== 2) this.dispatchEvent(new MessageEvent(type, { data, lastEventId }));
  }
  fail(): void {
    this.readyState = 2;
    this.onerror?.();
  }
  close(): void {
    this.readyState = 2;
  }
}

/** A client of tab `tab` that records what its listeners of `types` get and every status. */
function client(tab: Tab, types: string[], options: Partial<RealtimeClientOptions> = {}) {
  const got: RealtimeMessage[] = [];
  const statuses: string[] = [];
  const c: RealtimeClient<EventMap> = tab.run(() =>
    createClient({ url: URL_A, workerUrl: WORKER_URL, sharing: 'shared-worker', parse: 'text', inert: false, ...options }, tab.context),
  );
  clients.push(c);
  c.onStatus((s: RealtimeStatus) => statuses.push(`${s.state}/${s.transport}`));
  for (const type of types) c.on(type, (m) => got.push(m));
  return { c, got, ids: () => got.map((m) => m.lastEventId), statuses };
}

/** The events the server has published, as the tab's own stream receives them. */
const echo = (es: FakeEventSource, ids: string[]) => {
  for (const id of ids) {
    const event = server.log.find((e) => e.id === id)!;
    es.emit(event.type, event.data, event.id);
  }
};

function install(catchUpChars?: number): void {
  platform = installFakePlatform({
    sharedWorker: () => (scope) => serveSharedWorker(scope, { hub: createHub({ connect: server.connect, ...(catchUpChars !== undefined && { catchUpChars }) }) }),
  });
  server = createFakeServer(platform);
}

beforeEach(() => {
  vi.useFakeTimers(FAKE_TIMERS);
  FakeEventSource.made = [];
  vi.stubGlobal('EventSource', FakeEventSource);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  platform.uninstall();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

/** Until the tab has opened its own stream; returns it. */
async function ownStream(): Promise<FakeEventSource> {
  await until(() => FakeEventSource.made.length === 1, "the tab's own stream");
  return FakeEventSource.made[0]!;
}

/** Tab A, the first of its origin, with a client listening to `x` whose own stream has opened. */
async function firstTab(catchUpChars?: number) {
  install(catchUpChars);
  const a = await openTab(platform, 'A');
  const c = client(a, ['x']);
  const es = await ownStream();
  es.open();
  return { a, c, es };
}

describe('earlyStream: the first tab reads its stream itself until its worker has events', () => {
  it('the worker takes over after the last event the tab got, from the events its hub keeps: each event once, one upstream request', async () => {
    const { c, es } = await firstTab();
    expect(es.url).toBe(URL_A);
    await until(() => server.upstreams[0]?.opened === true, "the worker's upstream");
    // The tab's stream is ahead of the worker's, as a rule: it gets 1 and 2 first.
    server.publish('x');
    server.publish('x');
    echo(es, ['1', '2']);
    expect(c.ids()).toEqual(['1', '2']);
    expect(c.statuses).toEqual(['open/eventsource']);
    await until(() => es.readyState === 2, 'the hand-over');
    server.publish('x');
    echo(es, ['3']);
    await until(() => c.ids().length === 3, 'event 3');
    server.publish('y');
    server.publish('x');
    await until(() => c.ids().length === 4, 'event 5');
    expect(c.ids()).toEqual(['1', '2', '3', '5']);
    expect(c.statuses).toEqual(['open/eventsource', 'open/fetch']);
    expect(server.upstreams).toHaveLength(1);
    expect(c.c.status.lastEventId).toBe('5');
  });

  it('when the hub does not keep the last event the tab got, its upstream goes back for what follows it', async () => {
    const { c, es } = await firstTab(0);
    await until(() => server.upstreams[0]?.opened === true, "the worker's upstream");
    server.publish('x');
    server.publish('x');
    echo(es, ['1', '2']);
    await until(() => c.ids().length === 3 || server.upstreams.some((u) => u.restarts.length > 0), 'the hand-over');
    server.publish('x');
    await until(() => c.ids().length === 3, 'event 3');
    expect(c.ids()).toEqual(['1', '2', '3']);
    expect(server.upstreams.flatMap((u) => u.restarts.map((r) => r.lastEventId))).toEqual(['2']);
  });

  it("a tab that read nothing by itself closes its stream when the worker's upstream opens, and keeps its subscription there", async () => {
    const { c, es } = await firstTab();
    // Its own stream is open, but not the client: having read nothing, the tab has no place to
    // hand over from, and an event published now may never reach it.
    expect(c.c.status.state).toBe('connecting');
    await until(() => es.readyState === 2, "the tab's own stream to close");
    expect(c.statuses).toEqual(['connecting/fetch', 'open/fetch']);
    expect(server.upstreams).toHaveLength(1);
    server.publish('x');
    await until(() => c.ids().length === 1, 'event 1 from the worker');
    expect(server.upstreams).toHaveLength(1);
  });

  it('on a quiet stream a tab that read events by itself hands over EARLY_HANDOVER_MS after the worker opened: its upstream goes back for them', async () => {
    const { c, es } = await firstTab();
    await until(() => platform.workers[0]?.connections === 1, 'the worker');
    // Two events the tab reads by itself before the worker's upstream opens (it does not get them).
    server.log.push({ type: 'x', data: 'd1', id: '1' }, { type: 'x', data: 'd2', id: '2' });
    echo(es, ['1', '2']);
    await until(() => server.upstreams[0]?.opened === true, "the worker's upstream");
    await vi.advanceTimersByTimeAsync(EARLY_HANDOVER_MS - 100);
    expect(es.readyState).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    await until(() => es.readyState === 2, "the tab's own stream to close");
    await until(() => server.upstreams.some((u) => u.restarts.length > 0), 'the upstream to go back');
    expect(server.upstreams.flatMap((u) => u.restarts.map((r) => r.lastEventId))).toEqual(['2']);
    server.publish('x');
    await until(() => c.ids().length === 3, 'event 3');
    expect(c.ids()).toEqual(['1', '2', '3']);
  });

  it("a tab that takes itself for the first beside a running worker: its own stream closes at the worker's open, its latest listener hears the kept event", async () => {
    install();
    const a = await openTab(platform, 'A');
    const first = client(a, [], { earlyStream: false });
    first.c.on('x', () => {}, { latest: true });
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    server.publish('x', 'kept');
    await vi.advanceTimersByTimeAsync(100);
    const b = await openTab(platform, 'B');
    // Web Locks answer at once, and wrongly: no worker.
    vi.spyOn(b.run(() => navigator.locks), 'query').mockResolvedValue({ held: [], pending: [] });
    const heardLatest: string[] = [];
    const c = b.run(() => createClient({ url: URL_A, workerUrl: WORKER_URL, sharing: 'shared-worker', parse: 'text', inert: false }, b.context));
    clients.push(c);
    c.on('x', (m) => heardLatest.push(`${m.text}${m.latest ? ' (latest)' : ''}`), { latest: true });
    const es = await ownStream();
    es.open();
    await until(() => es.readyState === 2, "the tab's own stream to close");
    await until(() => heardLatest.length === 1, 'the kept event');
    expect(heardLatest).toEqual(['kept (latest)']);
    expect(c.status.transport).toBe('fetch');
  });

  it('a stream without ids: the tab hands over at its first event without reading it', async () => {
    const { c, es } = await firstTab();
    es.emit('x', 'no id', '');
    expect(es.readyState).toBe(2);
    expect(c.got).toEqual([]);
  });

  it("a '*' listener added meanwhile hands over at once, from the last event the tab got", async () => {
    const { c, es } = await firstTab();
    await until(() => server.upstreams[0]?.opened === true, "the worker's upstream");
    server.publish('x');
    echo(es, ['1']);
    const all: string[] = [];
    c.c.on('*', (m) => all.push(m.lastEventId));
    expect(es.readyState).toBe(2);
    server.publish('y');
    await until(() => all.length === 1, "the '*' listener's first event");
    expect(all).toEqual(['2']);
    expect(c.ids()).toEqual(['1']);
  });

  it('no stream of its own: with a * listener, with earlyStream: false, with headers, beside a running worker', async () => {
    install();
    const a = await openTab(platform, 'A');
    client(a, ['*']);
    client(a, ['x'], { url: `${URL_A}?off`, earlyStream: false });
    client(a, ['x'], { url: `${URL_A}?headers`, headers: { authorization: 'Bearer t' } });
    await until(() => server.upstreams.filter((u) => u.opened).length === 3, 'three upstreams');
    const b = await openTab(platform, 'B');
    client(b, ['x']);
    await until(() => server.upstreams.filter((u) => u.opened).length === 3 && platform.workers[0]!.connections === 2, 'the second tab');
    await vi.advanceTimersByTimeAsync(100);
    expect(FakeEventSource.made).toEqual([]);
  });

  it('the tab\'s own stream fails before any event: the worker\'s subscription goes on', async () => {
    install();
    const a = await openTab(platform, 'A');
    const c = client(a, ['x']);
    const es = await ownStream();
    es.fail();
    await until(() => c.statuses.at(-1) === 'open/fetch', 'open over fetch');
    server.publish('x');
    await until(() => c.ids().length === 1, 'event 1');
    expect(server.upstreams).toHaveLength(1);
  });

  it('the page leaves while reading early (back/forward cache): its own stream closes, nothing reconnects while hidden, and it comes back from the last event it got', async () => {
    const { c, es } = await firstTab();
    await until(() => platform.workers[0]?.connections === 1, 'the worker');
    server.publish('x');
    server.publish('x');
    echo(es, ['1', '2']);
    platform.pagehide('A', { persisted: true });
    expect(es.readyState).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(platform.workers[0]!.connections).toBe(1);
    server.publish('x');
    platform.pageshow('A', { persisted: true });
    await until(() => c.ids().length === 3, 'event 3');
    server.publish('x');
    await until(() => c.ids().length === 4, 'event 4');
    expect(c.ids()).toEqual(['1', '2', '3', '4']);
  });

  it('the worker dies while the tab reads early: one new worker, which the tab hands over to after the last event it got', async () => {
    const { c, es } = await firstTab();
    // Once the tab watches the worker's life lock, it hears of its death.
    await until(() => {
      const lock = platform.locks.snapshot().held.find((l) => l.clientId === platform.workers[0]?.agent && l.name.includes(':worker:'));
      return !!lock && platform.locks.waiting(lock.name).includes('A');
    }, 'the tab to watch the worker');
    await until(() => server.upstreams[0]?.opened === true, "the worker's upstream");
    // Its status reached the tab (held while the tab reads by itself).
    await vi.advanceTimersByTimeAsync(50);
    // Two events the tab reads by itself before the worker's frames of them come (they never do).
    server.log.push({ type: 'x', data: 'd1', id: '1' }, { type: 'x', data: 'd2', id: '2' });
    echo(es, ['1', '2']);
    platform.workers[0]!.terminate();
    await until(() => platform.workers[1]?.connections === 1, 'a new worker');
    // The tab's own stream reads on while it is open; the new worker's upstream started after 2.
    server.publish('x');
    echo(es, ['3']);
    server.publish('x');
    await until(() => c.ids().length === 4, 'event 4');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(c.ids()).toEqual(['1', '2', '3', '4']);
    expect(es.readyState).toBe(2);
    expect(platform.workers).toHaveLength(2);
    expect(platform.workers[1]!.connections).toBe(1);
  });
});
