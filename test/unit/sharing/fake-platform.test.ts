import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installFakePlatform, type FakePlatform } from '../../support/fake-platform.js';
import { settle, until } from '../../support/fake-time.js';
import { FAKE_TIMERS, openTab, recorder, WORKER_URL } from './helpers.js';

// The fakes the sharing tests stand on: checked here against the platform rules they imitate.

let platform: FakePlatform;

beforeEach(() => {
  vi.useFakeTimers(FAKE_TIMERS);
});
afterEach(() => {
  platform?.uninstall();
  vi.useRealTimers();
});

const locks = () => (globalThis as unknown as { navigator: { locks: LockManager } }).navigator.locks;

/** Takes `name` as `agent` until the returned release is called. */
function hold(agent: string, name: string, log: string[], signal?: AbortSignal) {
  let release!: () => void;
  const done = platform.within(agent, () =>
    locks().request(name, signal ? { signal } : {}, () => {
      log.push(`${agent} got ${name}`);
      return new Promise<string>((resolve) => (release = () => resolve(`${agent} done`)));
    }),
  );
  return { done, release: () => release() };
}

describe('fake Web Locks', () => {
  beforeEach(() => {
    platform = installFakePlatform();
  });

  it('grants a name to one holder at a time, in request order, until its callback settles', async () => {
    const log: string[] = [];
    const a = hold('A', 'x', log);
    const b = hold('B', 'x', log);
    const c = hold('C', 'x', log);
    await settle();
    expect(log).toEqual(['A got x']);
    expect(platform.locks.waiting('x')).toEqual(['B', 'C']);
    a.release();
    await expect(a.done).resolves.toBe('A done');
    await settle();
    expect(log).toEqual(['A got x', 'B got x']);
    b.release();
    await settle();
    expect(log).toEqual(['A got x', 'B got x', 'C got x']);
    c.release();
    await settle();
    expect(platform.locks.holder('x')).toBeUndefined();
  });

  it('a lock whose callback returns a plain value is released at once; other names are independent', async () => {
    const log: string[] = [];
    await expect(locks().request('y', () => 42)).resolves.toBe(42);
    const a = hold('A', 'x', log);
    const b = hold('B', 'z', log);
    await settle();
    expect(log).toEqual(['A got x', 'B got z']);
    a.release();
    b.release();
  });

  it('an AbortSignal withdraws a queued request with an AbortError; a held lock ignores it', async () => {
    const log: string[] = [];
    const a = hold('A', 'x', log);
    const withdraw = new AbortController();
    const b = hold('B', 'x', log, withdraw.signal);
    const c = hold('C', 'x', log);
    await settle();
    withdraw.abort();
    await expect(b.done).rejects.toMatchObject({ name: 'AbortError' });
    const late = new AbortController();
    late.abort();
    await expect(locks().request('x', { signal: late.signal }, () => {})).rejects.toMatchObject({ name: 'AbortError' });
    a.release();
    await settle();
    expect(log).toEqual(['A got x', 'C got x']);
    const keep = new AbortController();
    c.release();
    const d = hold('D', 'x', log, keep.signal);
    await settle();
    keep.abort();
    await settle();
    expect(platform.locks.holder('x')).toBe('D');
    d.release();
    await expect(d.done).resolves.toBe('D done');
  });

  it('refuse: every request rejects with a SecurityError, as in an opaque origin', async () => {
    platform.locks.refuse = true;
    await expect(locks().request('x', () => {})).rejects.toMatchObject({ name: 'SecurityError' });
  });

  it('a terminated agent loses its locks and its place in queues; nothing of it runs again', async () => {
    const log: string[] = [];
    hold('A', 'x', log);
    hold('A', 'y', log);
    hold('B', 'y', log);
    hold('A', 'x', log);
    hold('C', 'x', log);
    await settle();
    platform.terminate('A');
    await settle();
    expect(log.slice(0, 2)).toEqual(['A got x', 'A got y']);
    expect(log.slice(2).sort()).toEqual(['B got y', 'C got x']);
    expect(platform.locks.snapshot().held.map((l) => l.clientId).sort()).toEqual(['B', 'C']);
  });

  it('navigator.locks is per agent; a request made by code of an agent belongs to it, also after an await', async () => {
    expect(platform.within('A', locks)).not.toBe(platform.within('B', locks));
    const log: string[] = [];
    await platform.within('A', async () => {
      await Promise.resolve();
      void locks().request('later', () => new Promise(() => log.push('held')));
    });
    await settle();
    expect(platform.locks.holder('later')).toBe('A');
  });

  it('a timer runs as the agent that set it, and not at all once that agent was terminated', async () => {
    const ran: string[] = [];
    platform.within('A', () => setTimeout(() => ran.push(`A ${platform.agent()}`), 10));
    platform.within('B', () => setInterval(() => ran.push(`B ${platform.agent()}`), 10));
    await vi.advanceTimersByTimeAsync(25);
    platform.terminate('B');
    await vi.advanceTimersByTimeAsync(50);
    expect(ran).toEqual(['A A', 'B B', 'B B']);
  });
});

describe('fake SharedWorker', () => {
  it('one worker per URL and name; a terminated worker is replaced by a new one; construction can throw', async () => {
    const connected: number[] = [];
    platform = installFakePlatform({
      sharedWorker: ({ index }) => (scope) => {
        scope.onconnect = (event) => {
          connected.push(index);
          event.ports[0]!.postMessage(`hello from ${index}`);
        };
      },
    });
    const SW = (globalThis as unknown as { SharedWorker: typeof SharedWorker }).SharedWorker;
    const heard: string[] = [];
    const listen = (w: SharedWorker) => (w.port.onmessage = (e) => heard.push(e.data as string));
    listen(new SW(WORKER_URL, { name: 'n' }));
    listen(new SW(WORKER_URL, { name: 'n' }));
    listen(new SW(WORKER_URL, { name: 'other' }));
    await until(() => heard.length === 3);
    expect(connected.sort()).toEqual([1, 1, 2]);
    expect(platform.workers.map((w) => w.connections)).toEqual([2, 1]);
    platform.workers[0]!.terminate();
    listen(new SW(WORKER_URL, { name: 'n' }));
    await until(() => heard.length === 4);
    expect(heard.at(-1)).toBe('hello from 3');
    platform.failSharedWorker(() => new DOMException('blocked', 'SecurityError'));
    expect(() => new SW(WORKER_URL, { name: 'n' })).toThrow('blocked');
  });

  it("a terminated worker's life lock is released and its ports are closed", async () => {
    platform = installFakePlatform({
      sharedWorker: () => (scope) => {
        void locks().request('life', () => new Promise(() => {}));
        scope.onconnect = (event) => {
          const port = event.ports[0]!;
          port.addEventListener('message', (e) => port.postMessage(`echo ${String(e.data)}`));
          port.start();
        };
      },
    });
    const SW = (globalThis as unknown as { SharedWorker: typeof SharedWorker }).SharedWorker;
    const heard: string[] = [];
    const worker = new SW(WORKER_URL);
    worker.port.onmessage = (e) => heard.push(e.data as string);
    worker.port.postMessage('1');
    await until(() => heard.length === 1);
    expect(platform.locks.holder('life')).toBe('worker1');
    platform.workers[0]!.terminate();
    await settle();
    expect(platform.locks.holder('life')).toBeUndefined();
    worker.port.postMessage('2');
    await settle();
    expect(heard).toEqual(['echo 1']);
  });
});

describe('fake pages and channels', () => {
  beforeEach(() => {
    platform = installFakePlatform();
  });

  it('each loaded tab is independent: its own link caches, its own page events', async () => {
    const a = await openTab(platform, 'A');
    const b = await openTab(platform, 'B');
    expect(a.sw).not.toBe(b.sw);
    expect(a.run(() => a.local.localLink())).toBe(a.run(() => a.local.localLink()));
    expect(a.run(() => a.local.localLink())).not.toBe(b.run(() => b.local.localLink()));
    const seen: string[] = [];
    a.run(() => globalThis.addEventListener('pagehide', () => seen.push('A')));
    b.run(() => globalThis.addEventListener('pagehide', () => seen.push('B')));
    platform.pagehide('A');
    expect(seen).toEqual(['A']);
    // A leader link per tab and group: each tab holds its own tab lock.
    a.subscribe(recorder(), (t) => t.leader.leaderLink('g'));
    b.subscribe(recorder(), (t) => t.leader.leaderLink('g'));
    await settle();
    const tabLocks = platform.locks.snapshot().held.filter((l) => l.name.includes(':tab:'));
    expect(tabLocks.map((l) => l.clientId).sort()).toEqual(['A', 'B']);
  });

  it('a frozen page gets no channel messages (dropped, not queued); a dead page posts nothing', async () => {
    const inA = platform.within('A', () => new BroadcastChannel('c'));
    const inB = platform.within('B', () => new BroadcastChannel('c'));
    const got: unknown[] = [];
    inA.onmessage = (e) => got.push(e.data);
    platform.pagehide('A', { persisted: true });
    inB.postMessage('while frozen');
    await settle();
    platform.pageshow('A', { persisted: true });
    inB.postMessage('after');
    await until(() => got.length === 1);
    expect(got).toEqual(['after']);
    platform.terminate('B');
    inB.postMessage('from the dead');
    await settle();
    expect(got).toEqual(['after']);
  });
});
