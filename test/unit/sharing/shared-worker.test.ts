import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHub } from '../../../src/hub/hub.js';
import { FIRST_TAB_GUESS_MS } from '../../../src/protocol/limits.js';
import { NAMESPACE, PROTOCOL_VERSION } from '../../../src/protocol/release.js';
import { serveSharedWorker } from '../../../src/sharing/shared-worker-host.js';
import { installFakePlatform, type FakePlatform, type FakeWorker, type PlatformOptions, type WorkerScript } from '../../support/fake-platform.js';
import { settle, until } from '../../support/fake-time.js';
import {
  createFakeServer,
  FAKE_TIMERS,
  openTab,
  openTabs,
  recorder,
  recordingHub,
  spec,
  states,
  WORKER_URL,
  type FakeServer,
  type HubCall,
  type SubscribeRequest,
  type Tab,
} from './helpers.js';

let platform: FakePlatform;
let server: FakeServer;
/** What each worker's hub was asked, by worker index. */
let hubs: Map<number, HubCall[]>;
/** For each subscribe a hub handled: the tabs then waiting on a worker's life lock (they got the welcome). */
let welcomedAtSubscribe: string[][];

/** The real worker script: `serveSharedWorker` on a hub whose upstreams go to the fake server. */
const realWorker: WorkerScript =
  ({ index }) =>
  (scope) => {
    const calls: HubCall[] = [];
    hubs.set(index, calls);
    const onCall = (call: HubCall) => {
      if (call.kind !== 'subscribe') return;
      welcomedAtSubscribe.push(platform.locks.snapshot().pending.filter((l) => l.name.includes(':worker:')).map((l) => l.clientId));
    };
    serveSharedWorker(scope, { hub: recordingHub(createHub({ connect: server.connect, lineage: () => `L${index}` }), calls, onCall) });
  };

function install(options: PlatformOptions = {}): void {
  platform = installFakePlatform({ sharedWorker: realWorker, ...options });
  server = createFakeServer(platform);
}

/** An older build of the worker script at the same URL (say, from an HTTP cache): it speaks protocol 1. */
async function installOldWorker(): Promise<void> {
  install({ sharedWorker: () => (scope) => serveSharedWorker(scope, { hub: createHub({ connect: server.connect }), protocol: 1 }) });
}

// The worker URL check is a chunk, loaded on first use: have Vitest transform it before the fake clock runs.
beforeAll(() => import('../../../src/sharing/worker-failure.js'));
beforeEach(() => {
  vi.useFakeTimers(FAKE_TIMERS);
  hubs = new Map();
  welcomedAtSubscribe = [];
  // A worker slow to answer has its URL looked at (src/sharing/worker-failure.ts): here it serves the worker.
  vi.stubGlobal('fetch', async () => new Response(`/* the worker of ${NAMESPACE} */`, { headers: { 'content-type': 'text/javascript' } }));
});
afterEach(() => {
  platform.uninstall();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

const sw = (tab: Tab) => tab.sw.sharedWorkerLink(WORKER_URL);

const callsOf = (index: number): HubCall[] => hubs.get(index) ?? [];
const subscribes = (index: number): SubscribeRequest[] => callsOf(index).flatMap((c) => (c.kind === 'subscribe' ? [c.request] : []));
const detaches = (index: number): number[] => callsOf(index).flatMap((c) => (c.kind === 'detach' ? [c.peer] : []));

/** The life lock `worker` holds, once it holds it. */
function lifeLock(worker: FakeWorker): string | undefined {
  return platform.locks.snapshot().held.find((l) => l.clientId === worker.agent && l.name.includes(':worker:'))?.name;
}

/** Until every tab waits on the life lock of worker `index` (they learnt it from the welcome). */
async function watching(index: number, tabs: Tab[]): Promise<void> {
  await until(() => {
    const worker = platform.workers[index - 1];
    const name = worker && lifeLock(worker);
    return !!name && tabs.every((t) => platform.locks.waiting(name).includes(t.agent));
  }, `every tab to watch worker ${index}`);
}

const tabs = <const Agents extends readonly string[]>(...agents: Agents) => openTabs(platform, {}, ...agents);

describe('SharedWorker sharing', () => {
  it('two tabs share one worker, one hub and one upstream; each subscriber gets its events with the stream position', async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    const all = a.subscribe(recorder(), sw);
    const onlyX = b.subscribe(recorder({ types: ['x'] }), sw);
    expect(sw(a).sharing).toBe('shared-worker');
    await until(() => subscribes(1).length === 2 && server.upstreams[0]?.opened === true, 'both subscriptions');
    expect(platform.workers).toHaveLength(1);
    expect(platform.workers[0]!.connections).toBe(2);
    server.publish('x');
    server.publish('y');
    server.publish('x');
    await until(() => all.ids.length === 3 && onlyX.ids.length === 2, 'deliveries');
    await settle();
    expect(server.upstreams).toHaveLength(1);
    expect(all.ids).toEqual(['1', '2', '3']);
    expect(onlyX.ids).toEqual(['1', '3']);
    expect(all.at).toEqual({ id: '3', count: 3, lineage: 'L1' });
    expect(onlyX.at).toEqual({ id: '3', count: 3, lineage: 'L1' });
    expect(all.state).toBe('open');
    expect(onlyX.state).toBe('open');
    // Each tab attached once, then subscribed, without waiting for the welcome: no tab had it yet.
    for (const peer of [1, 2]) expect(callsOf(1).filter((c) => c.peer === peer).map((c) => c.kind)).toEqual(['attach', 'subscribe']);
    expect(welcomedAtSubscribe[0]).not.toContain('A');
    expect(welcomedAtSubscribe[1]).not.toContain('B');
    await watching(1, [a, b]);
  });

  it("a subscriber's filter change reaches the hub through the worker; its close ends a stream only it used at once", async () => {
    install();
    const [a] = await tabs('A');
    const s = a.subscribe(recorder({ types: ['x'] }), sw);
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    server.publish('y');
    server.publish('x');
    await until(() => s.at.id === '2', 'position 2');
    s.types = ['x', 'y'];
    a.run(() => s.subscription!.update({ types: ['x', 'y'] }));
    await until(() => callsOf(1).some((c) => c.kind === 'update'), 'the update');
    server.publish('y');
    await until(() => s.at.id === '3', 'position 3');
    expect(s.ids).toEqual(['2', '3']);
    a.run(() => s.subscription!.close());
    await until(() => server.upstreams[0]!.closed, 'the upstream to close');
    expect(callsOf(1).at(-1)).toEqual({ kind: 'unsubscribe', peer: 1, sub: 1, grace: false });
  });

  it("the hub asks a tab's headers provider through that tab; a tab that dies is dropped and another tab's provider is asked", async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    const fromA = a.subscribe(recorder({ headers: async () => ({ Authorization: 'Bearer A' }) }), sw);
    const fromB = b.subscribe(recorder({ headers: async () => ({ Authorization: 'Bearer B' }) }), sw);
    // A stream only A uses.
    a.subscribe(recorder({ spec: spec({ url: 'https://example.test/only-a' }) }), sw);
    await until(() => subscribes(1).length === 3, 'the subscriptions');
    await watching(1, [a, b]);
    const shared = server.upstreams.find((u) => u.options.url === 'https://example.test/events')!;
    const onlyA = server.upstreams.find((u) => u.options.url === 'https://example.test/only-a')!;
    await expect(shared.headers()).resolves.toEqual({ Authorization: 'Bearer A' });
    expect([fromA.headersCalls, fromB.headersCalls]).toEqual([1, 0]);
    // Tab A crashes: its tab lock is released (and its ports closed).
    platform.terminate('A');
    await until(() => detaches(1).length === 1, 'the host to drop A');
    // The next attempt asks B at once: A is not waited for.
    let answer: unknown;
    void shared.headers().then((h) => (answer = h));
    await settle();
    expect(answer).toEqual({ Authorization: 'Bearer B' });
    expect([fromA.headersCalls, fromB.headersCalls]).toEqual([1, 1]);
    // The stream only A used closes after the grace period.
    await vi.advanceTimersByTimeAsync(2_999);
    expect(onlyA.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(onlyA.closed).toBe(true);
    expect(shared.closed).toBe(false);
  });

  it('the worker dies: subscribers say reconnecting, a new worker starts, and every subscriber resumes from its position, nothing lost or doubled', async () => {
    install();
    const [r, a1, a2] = await tabs('R', 'A1', 'A2');
    const rare = r.subscribe(recorder({ types: ['rare'] }), sw);
    const all1 = a1.subscribe(recorder(), sw);
    const all2 = a2.subscribe(recorder(), sw);
    await until(() => subscribes(1).length === 3 && server.upstreams[0]?.opened === true, 'the subscriptions');
    await watching(1, [r, a1, a2]);
    server.publish('rare');
    for (let i = 0; i < 30; i++) server.publish('common');
    await until(() => [rare, all1, all2].every((s) => s.at.id === '31'), 'every position at 31');
    expect([rare, all1, all2].map((s) => s.state)).toEqual(['open', 'open', 'open']);

    platform.workers[0]!.terminate();
    // The server goes on while no worker holds the stream.
    server.publish('common');
    server.publish('rare');
    await until(() => subscribes(2).length === 3, 'the resubscriptions');
    for (const s of [rare, all1, all2]) expect(states(s)).toContain('reconnecting');
    expect(platform.workers).toHaveLength(2);
    expect(platform.workers[1]!.connections).toBe(3);
    // Every subscriber resubscribed from where it stood; the new upstream resumes from there.
    expect(subscribes(2).map((q) => q.position)).toEqual([
      { id: '31', count: 31, lineage: 'L1' },
      { id: '31', count: 31, lineage: 'L1' },
      { id: '31', count: 31, lineage: 'L1' },
    ]);
    expect(server.upstreams.map((u) => u.lastEventId)).toEqual(['', '31']);
    for (let i = 0; i < 6; i++) server.publish(i === 3 ? 'rare' : 'common');
    await until(() => [rare, all1, all2].every((s) => s.at.id === '39'), 'every position at 39');
    await settle();
    const every = server.ids();
    expect(all1.ids).toEqual(every);
    expect(all2.ids).toEqual(every);
    expect(rare.ids).toEqual(server.log.filter((e) => e.type === 'rare').map((e) => e.id));
    expect(rare.ids).toEqual(['1', '33', '37']);
    expect(all1.at).toEqual({ id: '39', count: 39, lineage: 'L1' });
    for (const s of [rare, all1, all2]) expect(s.state).toBe('open');
  });

  it('a worker made while the dead one is torn down never answers (Firefox): after 1 s the tab makes another, and resumes with nothing lost or doubled', async () => {
    install({ workerTeardownMs: 100 });
    const [a, b] = await tabs('A', 'B');
    const all = [a, b].map((t) => t.subscribe(recorder(), sw));
    await until(() => subscribes(1).length === 2 && server.upstreams[0]?.opened === true, 'the subscriptions');
    await watching(1, [a, b]);
    for (let i = 0; i < 5; i++) server.publish('common');
    await until(() => all.every((s) => s.at.id === '5'), 'every position at 5');

    platform.workers[0]!.terminate();
    server.publish('common');
    await settle();
    // The tabs made their new SharedWorker at once, and it went to the dead worker.
    expect(platform.workers).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(subscribes(2)).toEqual([]);
    expect(all.map((s) => s.lost)).toEqual([[], []]);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => subscribes(2).length === 2, 'the resubscriptions to a new worker');
    expect(platform.workers).toHaveLength(2);
    server.publish('common');
    await until(() => all.every((s) => s.at.id === '7'), 'every position at 7');
    await settle();
    for (const s of all) {
      expect(s.ids).toEqual(server.ids());
      expect(s.state).toBe('open');
    }
  });

  it('after a death, a worker slow to start (over 1 s) is asked again; the connection given up leaves nothing behind in it', async () => {
    let start!: () => void;
    const started = new Promise<void>((resolve) => (start = resolve));
    install({
      sharedWorker: async (info) => {
        if (info.index === 2) await started;
        return realWorker(info) as (scope: { onconnect: ((event: MessageEvent) => void) | null }) => void;
      },
    });
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await until(() => subscribes(1).length === 1 && server.upstreams[0]?.opened === true, 'the subscription');
    await watching(1, [a]);
    server.publish('common');
    await until(() => s.at.id === '1', 'position 1');
    platform.workers[0]!.terminate();
    await settle();
    await vi.advanceTimersByTimeAsync(2_500);
    // Chromium joins the starting worker again: two connections to worker 2, the first given up.
    expect(platform.workers).toHaveLength(2);
    expect(platform.workers[1]!.connections).toBe(3);
    start();
    await until(() => s.state === 'open', 'open on worker 2');
    server.publish('common');
    await until(() => s.at.id === '2', 'position 2');
    await settle();
    expect(s.ids).toEqual(['1', '2']);
    // The tab leaves: nothing of the connections it gave up holds the upstream open.
    s.subscription!.close();
    await vi.advanceTimersByTimeAsync(10_000);
    await settle();
    expect(server.live()).toEqual([]);
  });

  it('a dead worker that keeps taking new connections for 10 s: the tab tries every second, then gives up saying the worker did not answer', async () => {
    install({ workerTeardownMs: 20_000 });
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await until(() => subscribes(1).length === 1 && server.upstreams[0]?.opened === true, 'the subscription');
    await watching(1, [a]);
    platform.workers[0]!.terminate();
    await settle();
    await vi.advanceTimersByTimeAsync(9_000);
    expect(s.lost).toEqual([]);
    // The first attempt at once, then one a second.
    expect(platform.workers[0]!.connections).toBe(1 + 10);
    await vi.advanceTimersByTimeAsync(1_000);
    await until(() => s.lost.length > 0, 'onLost');
    expect(s.lost).toMatchObject([{ code: 'sharing-unavailable', message: `The SharedWorker at ${WORKER_URL} did not answer` }]);
    expect(platform.workers).toHaveLength(1);
  });

  it('tabs of two releases name two workers and never share one', async () => {
    install();
    const a = await openTab(platform, 'A', { release: '1.0.0' });
    const b = await openTab(platform, 'B', { release: '2.0.0' });
    const a2 = await openTab(platform, 'A2', { release: '1.0.0' });
    const subscribers = [a, b, a2].map((t) => t.subscribe(recorder(), sw));
    await until(() => subscribers.every((s) => s.state === 'open'), 'every subscriber open');
    expect(platform.workers.map((w) => [w.name, w.connections])).toEqual([
      [`ssemux@1.0.0/${PROTOCOL_VERSION}`, 2],
      [`ssemux@2.0.0/${PROTOCOL_VERSION}`, 1],
    ]);
    expect(server.upstreams.map((u) => u.agent)).toEqual(['worker1', 'worker2']);
  });

  it('more than 3 worker deaths within 30 s: onLost with sharing-unavailable, and no fifth worker', async () => {
    install();
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    for (let death = 1; death <= 4; death++) {
      await until(() => subscribes(death).length === 1, `worker ${death} to serve the tab`);
      await watching(death, [a]);
      await vi.advanceTimersByTimeAsync(1_000);
      platform.workers[death - 1]!.terminate();
      await settle();
      if (death < 4) expect(s.lost).toEqual([]);
    }
    await until(() => s.lost.length === 1, 'onLost');
    expect(s.lost[0]).toMatchObject({ code: 'sharing-unavailable', message: `The SharedWorker at ${WORKER_URL} keeps dying` });
    await settle();
    expect(platform.workers).toHaveLength(4);
    // A later subscriber of this tab is handed over too.
    const late = a.subscribe(recorder(), sw);
    await settle();
    expect(late.lost).toMatchObject([{ code: 'sharing-unavailable' }]);
  });

  it('worker deaths spread over more than 30 s are survived', async () => {
    install();
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    for (let death = 1; death <= 5; death++) {
      await until(() => subscribes(death).length === 1, `worker ${death} to serve the tab`);
      await watching(death, [a]);
      await vi.advanceTimersByTimeAsync(11_000);
      platform.workers[death - 1]!.terminate();
    }
    await until(() => subscribes(6).length === 1, 'worker 6 to serve the tab');
    expect(s.lost).toEqual([]);
  });

  it('a worker that answers with another protocol version: onLost with protocol-mismatch', async () => {
    await installOldWorker();
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await until(() => s.lost.length === 1, 'onLost');
    expect(s.lost[0]).toMatchObject({ code: 'protocol-mismatch', message: `The SharedWorker at ${WORKER_URL} speaks protocol 1, this tab ${PROTOCOL_VERSION}` });
  });

  it("a worker of another protocol whose life lock comes after its upstream opened: the tab takes nothing from it, not even its 'open'", async () => {
    await installOldWorker();
    // A busy browser grants the worker's life lock late: its welcome waits for it, the upstream does not.
    const request = platform.locks.request.bind(platform.locks);
    platform.locks.request = (agent, name, a, b) =>
      name.includes(':worker:') ? new Promise((r) => setTimeout(r, 200)).then(() => request(agent, name, a, b)) : request(agent, name, a, b);
    server.publish();
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await settle();
    expect(server.upstreams[0]?.opened).toBe(true);
    await vi.advanceTimersByTimeAsync(200);
    await until(() => s.lost.length === 1, 'onLost');
    expect(s.lost[0]).toMatchObject({ code: 'protocol-mismatch' });
    expect(s.events).toEqual([]);
    expect(s.statuses.map((x) => x.state)).not.toContain('open');
  });

  for (const [what, script, says] of [
    ['another script', 'self.onconnect = () => {};', 'serves a script that is not the ssemux worker'],
    ['another release', 'const n = "ssemux@0.0.1/1"; self.onconnect = () => {};', `serves the worker of another release (ssemux@0.0.1/1, this page runs ${NAMESPACE})`],
  ] as const) {
    it(`a worker URL that serves ${what}: the tab looks at it after 500 ms and falls back, saying what it serves, once in the console`, async () => {
      install({ sharedWorker: () => (scope) => void (scope.onconnect = () => {}) });
      vi.stubGlobal('fetch', async () => new Response(script, { headers: { 'content-type': 'text/javascript' } }));
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const [a] = await tabs('A');
      const s = a.subscribe(recorder(), sw);
      await vi.advanceTimersByTimeAsync(499);
      await settle();
      expect(s.lost).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      await until(() => s.lost.length === 1, 'onLost');
      expect(s.lost[0]).toMatchObject({ code: 'sharing-unavailable', message: `The SharedWorker at ${WORKER_URL} ${says}` });
      expect(warn.mock.calls.map((c) => c[0])).toEqual([expect.stringContaining(says)]);
      warn.mockRestore();
    });
  }

  it('new SharedWorker() throws (a blocked or broken worker URL): onLost with sharing-unavailable', async () => {
    install();
    platform.failSharedWorker(() => new DOMException('Access to the script is denied', 'SecurityError'));
    const [a] = await tabs('A');
    const first = a.subscribe(recorder(), sw);
    const second = a.subscribe(recorder(), sw);
    await until(() => first.lost.length + second.lost.length === 2, 'onLost');
    expect(first.lost).toEqual([
      { name: 'RealtimeError', code: 'sharing-unavailable', message: `The SharedWorker at ${WORKER_URL} cannot start: Access to the script is denied` },
    ]);
    expect(second.lost).toMatchObject([{ code: 'sharing-unavailable' }]);
  });

  it('a worker script that fails to load: onLost with sharing-unavailable saying what the URL serves, and one console line', async () => {
    install({ sharedWorker: () => Promise.reject(new Error('404')) });
    vi.stubGlobal('fetch', async () => new Response('Not found', { status: 404 }));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await until(() => s.lost.length === 1, 'onLost');
    expect(s.lost[0]).toMatchObject({ code: 'sharing-unavailable', message: `The SharedWorker at ${WORKER_URL} answers 404` });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(/^ssemux: the worker URL .* answers 404; .*new URL\('ssemux\/worker', import\.meta\.url\)/);
    warn.mockRestore();
  });

  it('a worker script that cannot be looked at (unreachable): onLost says it failed to start', async () => {
    install({ sharedWorker: () => Promise.reject(new Error('network')) });
    vi.stubGlobal('fetch', async () => Promise.reject(new TypeError('Failed to fetch')));
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await until(() => s.lost.length === 1, 'onLost');
    expect(s.lost[0]).toMatchObject({ code: 'sharing-unavailable', message: `The SharedWorker at ${WORKER_URL} failed to start` });
  });

  it('a worker that does not answer within 10 s is given up; when it starts after all, it does not keep the tab', async () => {
    let start!: () => void;
    const started = new Promise<void>((resolve) => (start = resolve));
    install({
      sharedWorker: async (info) => {
        await started;
        return realWorker(info) as (scope: { onconnect: ((event: MessageEvent) => void) | null }) => void;
      },
    });
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await settle();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(s.lost).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await until(() => s.lost.length > 0, 'onLost');
    expect(s.lost).toMatchObject([{ code: 'sharing-unavailable', message: `The SharedWorker at ${WORKER_URL} did not answer` }]);
    // The busy machine starts the worker at last: it finds what the tab sent before giving up.
    start();
    await until(() => subscribes(1).length === 1, 'the worker to read the queued subscription');
    await settle();
    // The tab has moved on to another sharing mode: no upstream may stay open for it here.
    await vi.advanceTimersByTimeAsync(3_000);
    await settle();
    expect(server.live().map((u) => u.options.url)).toEqual([]);
  });

  it('pagehide detaches (the upstream lives on for the grace period); pageshow resubscribes from the positions', async () => {
    install();
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    await watching(1, [a]);
    server.publish();
    server.publish();
    await until(() => s.ids.length === 2, 'the first events');
    platform.pagehide('A', { persisted: true });
    expect(s.state).toBe('reconnecting');
    await until(() => detaches(1).length === 1, 'the hub to see the tab leave');
    // The tab stopped waiting on the worker's life lock.
    expect(platform.locks.waiting(lifeLock(platform.workers[0]!)!)).toEqual([]);
    server.publish();
    server.publish();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(server.upstreams[0]!.closed).toBe(false);
    platform.pageshow('A', { persisted: true });
    await until(() => s.ids.length === 4, 'the missed events');
    server.publish();
    await until(() => s.ids.length === 5, 'a live event');
    expect(s.ids).toEqual(['1', '2', '3', '4', '5']);
    expect(subscribes(1).map((q) => q.position)).toEqual([
      { id: '', count: 0, lineage: '' },
      { id: '2', count: 2, lineage: 'L1' },
    ]);
    expect(server.upstreams).toHaveLength(1);
    expect(s.state).toBe('open');
    // Attached again, and the worker watches the tab again.
    await watching(1, [a]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.upstreams[0]!.closed).toBe(false);
  });

  it('a page that stays in the back/forward cache past the grace period resumes on a new upstream from its position', async () => {
    install();
    const [a] = await tabs('A');
    const s = a.subscribe(recorder(), sw);
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    server.publish();
    await until(() => s.ids.length === 1, 'the first event');
    platform.pagehide('A');
    await until(() => detaches(1).length === 1, 'the hub to see the tab leave');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(server.upstreams[0]!.closed).toBe(true);
    server.publish();
    platform.pageshow('A');
    await until(() => s.ids.length === 2, 'the missed event');
    server.publish();
    await until(() => s.ids.length === 3, 'a live event');
    expect(s.ids).toEqual(['1', '2', '3']);
    expect(server.upstreams.map((u) => u.lastEventId)).toEqual(['', '1']);
  });

  it('a page back from the back/forward cache after the worker died resumes from its older position; the others see nothing twice', async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    const sa = a.subscribe(recorder(), sw);
    const sb = b.subscribe(recorder(), sw);
    await until(() => server.upstreams[0]?.opened === true && subscribes(1).length === 2, 'the subscriptions');
    await watching(1, [a, b]);
    for (let i = 0; i < 5; i++) server.publish();
    await until(() => sa.at.id === '5' && sb.at.id === '5', 'both at 5');
    platform.pagehide('B');
    await until(() => detaches(1).length === 1, 'B to leave');
    for (let i = 0; i < 3; i++) server.publish();
    await until(() => sa.at.id === '8', 'A at 8');
    platform.workers[0]!.terminate();
    await until(() => subscribes(2).length === 1 && server.upstreams[1]?.opened === true, 'A on the new worker');
    expect(server.upstreams[1]!.lastEventId).toBe('8');
    server.publish();
    server.publish();
    await until(() => sa.at.id === '10', 'A at 10');
    // B comes back behind what the new hub remembers: the upstream goes back for it.
    platform.pageshow('B');
    await until(() => subscribes(2).length === 2, 'B on the new worker');
    expect(subscribes(2)[1]!.position).toEqual({ id: '5', count: 5, lineage: 'L1' });
    await until(() => sb.at.id === '10', 'B at 10');
    expect(server.upstreams[1]!.restarts).toEqual([{ lastEventId: '5' }]);
    server.publish();
    await until(() => sa.at.id === '11' && sb.at.id === '11', 'both at 11');
    await settle();
    expect(sa.ids).toEqual(server.ids());
    expect(sb.ids).toEqual(server.ids());
  });

  describe('without (usable) Web Locks', () => {
    it('the host pings, the tab answers and stays; a tab that stops answering is dropped after three pings', async () => {
      install({ locks: false });
      const [a, b] = await tabs('A', 'B');
      const sa = a.subscribe(recorder(), sw);
      b.subscribe(recorder({ spec: spec({ url: 'https://example.test/only-b' }) }), sw);
      await until(() => subscribes(1).length === 2, 'the subscriptions');
      // A minute of pings: both tabs answer.
      for (let i = 0; i < 12; i++) {
        await vi.advanceTimersByTimeAsync(5_000);
        await settle();
      }
      expect(detaches(1)).toEqual([]);
      // B goes silent (it crashed; nothing else tells the worker here).
      platform.terminate('B');
      await vi.advanceTimersByTimeAsync(15_000);
      await settle();
      expect(detaches(1)).toEqual([]);
      await vi.advanceTimersByTimeAsync(5_000);
      await settle();
      expect(detaches(1)).toEqual([2]);
      // A is still served, and B's stream closes after the grace period.
      await vi.advanceTimersByTimeAsync(3_000);
      expect(server.upstreams.map((u) => u.closed)).toEqual([false, true]);
      server.publish();
      await until(() => sa.ids.length === 1, 'an event for A');
    });

    it('a tab that gets no ping for three intervals takes the worker as dead and resubscribes to a new one', async () => {
      install({ locks: false });
      const [a] = await tabs('A');
      const s = a.subscribe(recorder(), sw);
      await until(() => server.upstreams[0]?.opened === true, 'the upstream');
      server.publish();
      await until(() => s.ids.length === 1, 'the first event');
      // Pings at 5 s and 10 s; then the worker is gone.
      await vi.advanceTimersByTimeAsync(10_000);
      await settle();
      platform.workers[0]!.terminate();
      await vi.advanceTimersByTimeAsync(14_999);
      await settle();
      expect(s.state).toBe('open');
      expect(platform.workers).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(s.state).toBe('reconnecting');
      await until(() => subscribes(2).length === 1, 'the resubscription');
      expect(subscribes(2)[0]!.position).toEqual({ id: '1', count: 1, lineage: 'L1' });
      server.publish();
      await until(() => s.ids.length === 2, 'an event from the new worker');
      expect(s.ids).toEqual(['1', '2']);
      expect(s.state).toBe('open');
    });

    it('Web Locks that refuse every request (SecurityError): the worker says it pings, and it does; the tab stays attached', async () => {
      install();
      platform.locks.refuse = true;
      const [a, b] = await tabs('A', 'B');
      const sa = a.subscribe(recorder(), sw);
      b.subscribe(recorder({ spec: spec({ url: 'https://example.test/only-b' }) }), sw);
      await until(() => subscribes(1).length === 2 && server.upstreams[0]?.opened === true, 'the subscriptions');
      // The welcome named no life lock (the worker could not take one), so the tabs expect pings.
      for (let i = 0; i < 12; i++) {
        await vi.advanceTimersByTimeAsync(5_000);
        await settle();
      }
      expect(states(sa)).toEqual(['connecting', 'open']);
      expect(callsOf(1).filter((c) => c.kind === 'attach')).toHaveLength(2);
      // And a tab that dies is noticed the only way left: by its silence.
      platform.terminate('B');
      for (let i = 0; i < 8; i++) {
        await vi.advanceTimersByTimeAsync(5_000);
        await settle();
      }
      expect(server.upstreams.find((u) => u.options.url === 'https://example.test/only-b')!.closed).toBe(true);
    });
  });
});


describe('A first tab: whether a worker ran before it (earlyStream)', () => {
  /** What `promise` resolves to, the fake clock running until it does. */
  async function settled<T>(promise: Promise<T>): Promise<T> {
    let done: { value: T } | undefined;
    void promise.then((value) => (done = { value }));
    await until(() => done !== undefined, 'the answer');
    return done!.value;
  }
  const alone = (tab: Tab) => tab.run(() => sw(tab).alone!());

  it('the first tab is alone (asked as it subscribes); a tab that joins the running worker is not, by its lock or by its welcome', async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    a.subscribe(recorder(), sw);
    expect(await settled(alone(a))).toBe(true);
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    await watching(1, [a]);
    // Asked again once welcomed: no.
    expect(await settled(alone(a))).toBe(false);
    b.subscribe(recorder(), sw);
    expect(await settled(alone(b))).toBe(false);
    // Without Web Locks' answer, the welcome tells.
    const c = await openTab(platform, 'C');
    vi.spyOn(c.run(() => navigator.locks), 'query').mockReturnValue(new Promise(() => {}));
    c.subscribe(recorder(), sw);
    expect(await settled(alone(c))).toBe(false);
    // A tab of another release has no worker of its own yet.
    const old = await openTab(platform, 'D', { release: '0.0.1' });
    expect(await settled(alone(old))).toBe(true);
  });

  it('alone is guessed true when neither Web Locks nor a worker answer within FIRST_TAB_GUESS_MS (a page\'s first query can be slow)', async () => {
    install({ sharedWorker: () => new Promise(() => {}) });
    const a = await openTab(platform, 'A');
    vi.spyOn(a.run(() => navigator.locks), 'query').mockReturnValue(new Promise(() => {}));
    a.subscribe(recorder(), sw);
    let first: boolean | undefined;
    void alone(a).then((value) => (first = value));
    await vi.advanceTimersByTimeAsync(FIRST_TAB_GUESS_MS - 1);
    expect(first).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(first).toBe(true);
  });

  it('a tab whose worker cannot start is not alone: it falls back instead', async () => {
    install();
    platform.failSharedWorker(() => new DOMException('Access to the script is denied', 'SecurityError'));
    const a = await openTab(platform, 'A');
    vi.spyOn(a.run(() => navigator.locks), 'query').mockReturnValue(new Promise(() => {}));
    const s = a.subscribe(recorder(), sw);
    expect(await settled(alone(a))).toBe(false);
    await until(() => s.lost.length === 1, 'onLost');
  });

  it('a subscriber that read events by itself resumes from the last of them: the upstream goes back for what the hub does not keep', async () => {
    install();
    const [a] = await tabs('A');
    for (let i = 0; i < 9; i++) server.publish('x');
    const r = recorder();
    r.at = { id: '7', count: 7, lineage: 'early' };
    a.subscribe(r, sw);
    await until(() => r.ids.length === 2, 'the events after 7');
    expect(server.upstreams[0]!.lastEventId).toBe('7');
    expect(r.ids).toEqual(['8', '9']);
    expect(r.at).toEqual({ id: '9', count: 9, lineage: 'early' });
  });
});

describe('A stream the server closed for good (a 204) stays closed', () => {
  const sw = (tab: Tab) => tab.sw.sharedWorkerLink(WORKER_URL);
  /** The server answers 204 on the open upstream: it closes for good, as createConnection does. */
  const answer204 = () => {
    const upstream = server.upstreams[0]!;
    upstream.options.onStatus({ state: 'closed', reason: 'refused', transport: 'fetch', attempt: 0, lastEventId: '', error: { name: 'RealtimeError', code: 'no-content', message: '204', status: 204 } });
    upstream.closed = true;
  };

  it('when the page comes back from the back/forward cache: no new request', async () => {
    install();
    const a = await openTab(platform, 'A');
    const s = a.subscribe(recorder(), sw);
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    answer204();
    await until(() => s.state === 'closed', 'closed');
    platform.pagehide('A', { persisted: true });
    platform.pageshow('A', { persisted: true });
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(server.upstreams).toHaveLength(1);
    expect(s.state).toBe('closed');
  });

  it('when the worker restarts: no new request', async () => {
    install();
    const a = await openTab(platform, 'A');
    const s = a.subscribe(recorder(), sw);
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    answer204();
    await until(() => s.state === 'closed', 'closed');
    platform.workers[0]!.terminate();
    await vi.advanceTimersByTimeAsync(2_000);
    await settle();
    expect(platform.workers.length).toBeGreaterThan(1);
    expect(server.upstreams).toHaveLength(1);
    expect(s.state).toBe('closed');
  });
});
