/**
 * What a browser gives the sharing layer, faked in one Node process: Web Locks, SharedWorker,
 * BroadcastChannel and page lifecycle events, kept small and faithful.
 *
 * A browser runs each tab and each worker in its own realm ("agent"); here they share one
 * process, so every fake knows the agent it acts for. `within(agent, fn)` runs `fn` as that agent,
 * and so does everything `fn` leads to (an async context: promise callbacks, microtasks, port
 * listeners). What an agent registers belongs to it: a lock request (through the `navigator.locks`
 * it reads), a page listener, a BroadcastChannel, a SharedWorker port; and what the platform calls
 * back for it (a lock grant, a channel message, a page event, a message on a worker's port) runs as
 * that agent again. A page can be frozen in the back/forward cache (channel messages to it are
 * dropped: a document that is not fully active is not eligible for messaging) and thawed; an agent
 * can be terminated (a tab that crashed or closed, a worker the browser killed): its locks are
 * released, its queued lock requests dropped, its channels and ports closed, and none of its
 * callbacks run again.
 *
 * Timers set once the platform is installed run as the agent that set them, and never once it
 * was terminated (a crashed tab does not wake up to make a new worker connection).
 * Limits: a frozen page's lock grants and MessagePort messages are not held back (the links hold
 * none while hidden).
 * Node has real `MessageChannel` and `BroadcastChannel`; the fakes use them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SharedWorkerScope } from '../../src/sharing/shared-worker-host.js';

/** The agent of code run outside {@link FakePlatform.within}: a test with a single page. */
export const DEFAULT_AGENT = 'page';

// ---------------------------------------------------------------------------------------------
// Agents

interface AgentState {
  frozen: boolean;
  dead: boolean;
  /** Channel messages dispatched to it while frozen: Chromium evicts a cached page for one. */
  messagesWhileFrozen: number;
}

/**
 * The agent code runs as. An async context, so that it follows the code: promise callbacks,
 * microtasks and port listeners run as the agent that registered them; timers too, as the
 * installed platform wraps them (Vitest's fake timers would run them as the test).
 */
const context = new AsyncLocalStorage<string>();
const agents = new Map<string, AgentState>();

function currentAgent(): string {
  return context.getStore() ?? DEFAULT_AGENT;
}

function agentState(agent: string): AgentState {
  let state = agents.get(agent);
  if (!state) agents.set(agent, (state = { frozen: false, dead: false, messagesWhileFrozen: 0 }));
  return state;
}

function isDead(agent: string): boolean {
  return agents.get(agent)?.dead ?? false;
}

/** Runs `fn` as `agent` (nothing runs for a dead agent). */
function runAs<T>(agent: string, fn: () => T): T | undefined {
  if (isDead(agent)) return undefined;
  return context.run(agent, fn);
}

// ---------------------------------------------------------------------------------------------
// Web Locks

interface LockRequest {
  name: string;
  agent: string;
  callback: LockGrantedCallback<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  signal?: AbortSignal | undefined;
  onAbort?: () => void;
  state: 'queued' | 'held' | 'done';
}

/**
 * Web Locks with the semantics the sharing layer relies on: exclusive locks, one FIFO queue per
 * name, a lock held until the promise its callback returned settles, an AbortSignal that withdraws
 * a request still queued (rejecting it with the signal's reason, an AbortError), and locks
 * released when their agent ends. `refuse` makes every request reject with a SecurityError, as in
 * an opaque origin. Only exclusive requests without `ifAvailable`/`steal` are supported.
 */
export class FakeLockManager {
  /** Every request rejects with a SecurityError (an opaque or sandboxed origin). */
  refuse = false;
  private readonly held = new Map<string, LockRequest>();
  private readonly queues = new Map<string, LockRequest[]>();
  private readonly views = new Map<string, LockManager>();

  /** The `navigator.locks` of `agent`. */
  view(agent: string): LockManager {
    let view = this.views.get(agent);
    if (!view) {
      view = {
        request: (name: string, a: unknown, b?: unknown) => this.request(agent, name, a, b),
        query: () => Promise.resolve(this.snapshot()),
      } as unknown as LockManager;
      this.views.set(agent, view);
    }
    return view;
  }

  request(agent: string, name: string, optionsOrCallback: unknown, maybeCallback?: unknown): Promise<unknown> {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as LockGrantedCallback<unknown> | undefined;
    const options = (typeof optionsOrCallback === 'function' ? {} : (optionsOrCallback ?? {})) as LockOptions;
    if (typeof callback !== 'function') return Promise.reject(new TypeError('LockManager.request: a callback is required'));
    if ((options.mode && options.mode !== 'exclusive') || options.ifAvailable || options.steal) {
      throw new Error('FakeLockManager supports exclusive requests only (no shared mode, ifAvailable or steal)');
    }
    if (this.refuse) return Promise.reject(new DOMException('Access to the Locks API is denied in this context.', 'SecurityError'));
    if (name.startsWith('-')) return Promise.reject(new DOMException(`Names starting with "-" are reserved: ${name}`, 'NotSupportedError'));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const request: LockRequest = { name, agent, callback, resolve, reject, signal, state: 'queued' };
      if (signal) {
        request.onAbort = () => {
          // The signal only withdraws a request that is still waiting; a held lock stays held.
          if (request.state !== 'queued') return;
          this.dequeue(request);
          request.state = 'done';
          reject(signal.reason);
        };
        signal.addEventListener('abort', request.onAbort, { once: true });
      }
      let queue = this.queues.get(name);
      if (!queue) this.queues.set(name, (queue = []));
      queue.push(request);
      this.grantNext(name);
    });
  }

  /** Ends every lock and request of `agent`: its held locks go to the next in line. */
  terminate(agent: string): void {
    for (const queue of this.queues.values()) {
      for (const request of queue.filter((r) => r.agent === agent)) {
        this.dequeue(request);
        request.state = 'done';
      }
    }
    for (const request of [...this.held.values()]) {
      if (request.agent === agent) this.release(request);
    }
  }

  /** The agent holding `name`, if any. */
  holder(name: string): string | undefined {
    return this.held.get(name)?.agent;
  }

  /** The agents waiting for `name`, first in line first. */
  waiting(name: string): string[] {
    return (this.queues.get(name) ?? []).map((r) => r.agent);
  }

  /** Like `navigator.locks.query()`; `clientId` is the agent. */
  snapshot(): { held: { name: string; mode: 'exclusive'; clientId: string }[]; pending: { name: string; mode: 'exclusive'; clientId: string }[] } {
    return {
      held: [...this.held.values()].map((r) => ({ name: r.name, mode: 'exclusive' as const, clientId: r.agent })),
      pending: [...this.queues.values()].flat().map((r) => ({ name: r.name, mode: 'exclusive' as const, clientId: r.agent })),
    };
  }

  private dequeue(request: LockRequest): void {
    const queue = this.queues.get(request.name);
    const index = queue?.indexOf(request) ?? -1;
    if (index >= 0) queue!.splice(index, 1);
    if (queue && queue.length === 0) this.queues.delete(request.name);
  }

  private grantNext(name: string): void {
    if (this.held.has(name)) return;
    const next = this.queues.get(name)?.[0];
    if (!next) return;
    this.dequeue(next);
    next.state = 'held';
    if (next.onAbort) next.signal?.removeEventListener('abort', next.onAbort);
    this.held.set(name, next);
    // The callback runs later, as its agent (a microtask here: no timers involved).
    queueMicrotask(() => {
      if (next.state !== 'held') return;
      let result: unknown;
      try {
        result = runAs(next.agent, () => next.callback({ name, mode: 'exclusive' } as Lock));
      } catch (error) {
        this.release(next);
        next.reject(error);
        return;
      }
      Promise.resolve(result).then(
        (value) => {
          if (this.release(next)) next.resolve(value);
        },
        (error: unknown) => {
          if (this.release(next)) next.reject(error);
        },
      );
    });
  }

  /** Lets `request`'s lock go; false when it was already gone (its agent ended). */
  private release(request: LockRequest): boolean {
    if (this.held.get(request.name) !== request) return false;
    this.held.delete(request.name);
    request.state = 'done';
    this.grantNext(request.name);
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// BroadcastChannel

const NativeBroadcastChannel = globalThis.BroadcastChannel;

/** A BroadcastChannel as the platform tracks it. */
export interface ChannelRecord {
  readonly name: string;
  /** The agent that created it. */
  readonly agent: string;
  /** Every message its listeners were given, in order. */
  readonly received: unknown[];
  /** True once a message listener is set (a tab's own inbox; outboxes only post). */
  readonly listening: boolean;
  readonly closed: boolean;
}

const channels: TrackedBroadcastChannel[] = [];

/**
 * The real BroadcastChannel, tracked: messages reach it only while its agent is fully active
 * (the HTML rule: a document in the back/forward cache or gone is not eligible for messaging,
 * so its messages are dropped), its listeners run as its agent, and a dead agent posts nothing.
 */
class TrackedBroadcastChannel extends NativeBroadcastChannel implements ChannelRecord {
  readonly agent = currentAgent();
  readonly received: unknown[] = [];
  listening = false;
  closed = false;
  private readonly wrapped = new Map<unknown, EventListener>();

  constructor(name: string) {
    super(name);
    channels.push(this);
    // `onmessage` as a listener of our own, so that it too runs as the channel's agent.
    let handler: ((this: BroadcastChannel, event: MessageEvent) => unknown) | null = null;
    let native: EventListener | undefined;
    Object.defineProperty(this, 'onmessage', {
      configurable: true,
      enumerable: true,
      get: () => handler,
      set: (next: typeof handler) => {
        if (native) NativeBroadcastChannel.prototype.removeEventListener.call(this, 'message', native);
        handler = typeof next === 'function' ? next : null;
        native = undefined;
        if (!handler) return;
        this.listening = true;
        const call = handler;
        native = ((event: Event) => this.deliver(event, (e) => call.call(this, e as MessageEvent))) as EventListener;
        NativeBroadcastChannel.prototype.addEventListener.call(this, 'message', native);
      },
    });
  }

  private deliver(event: Event, listener: (event: Event) => unknown): void {
    const state = agents.get(this.agent);
    if (state?.frozen) state.messagesWhileFrozen++;
    if (state?.dead || state?.frozen) return;
    runAs(this.agent, () => {
      this.received.push((event as MessageEvent).data);
      listener(event);
    });
  }

  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    if (!listener) return;
    if (type === 'message') this.listening = true;
    const call = (event: Event) => (typeof listener === 'function' ? listener.call(this, event) : listener.handleEvent(event));
    const wrapped = ((event: Event) => this.deliver(event, call)) as EventListener;
    this.wrapped.set(listener, wrapped);
    super.addEventListener(type, wrapped, options);
  }

  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void {
    const wrapped = this.wrapped.get(listener);
    if (!wrapped) return;
    this.wrapped.delete(listener);
    super.removeEventListener(type, wrapped, options);
  }

  override postMessage(message: unknown): void {
    if (isDead(this.agent)) return;
    super.postMessage(message);
  }

  override close(): void {
    this.closed = true;
    super.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Page lifecycle events on globalThis

/** `pagehide` / `pageshow`; Node has no PageTransitionEvent. */
export class FakePageTransitionEvent extends Event {
  readonly persisted: boolean;
  constructor(type: 'pagehide' | 'pageshow', init: { persisted?: boolean } = {}) {
    super(type);
    this.persisted = init.persisted ?? false;
  }
}

interface PageListener {
  agent: string;
  type: string;
  listener: EventListenerOrEventListenerObject;
}

const pageListeners: PageListener[] = [];

function addPageListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
  if (!listener) return;
  if (pageListeners.some((l) => l.agent === currentAgent() && l.type === type && l.listener === listener)) return;
  pageListeners.push({ agent: currentAgent(), type, listener });
}

function removePageListener(type: string, listener: EventListenerOrEventListenerObject | null): void {
  const index = pageListeners.findIndex((l) => l.agent === currentAgent() && l.type === type && l.listener === listener);
  if (index >= 0) pageListeners.splice(index, 1);
}

/** Dispatches `event` to the page listeners of `agent` (each page has its own global). */
function dispatchPageEvent(agent: string, event: Event): boolean {
  for (const { listener } of pageListeners.filter((l) => l.agent === agent && l.type === event.type)) {
    runAs(agent, () => (typeof listener === 'function' ? listener.call(globalThis, event) : listener.handleEvent(event)));
  }
  return !event.defaultPrevented;
}

// ---------------------------------------------------------------------------------------------
// SharedWorker

/**
 * A worker script: called once per worker started (a fresh realm), it returns the function that
 * runs the script on its scope, as the worker's agent. That function may return a function to
 * run when the worker is terminated.
 */
export type WorkerScript = (worker: { url: string; name: string; index: number }) =>
  | ((scope: SharedWorkerScope) => void | (() => void))
  | Promise<(scope: SharedWorkerScope) => void | (() => void)>;

/** One running SharedWorker. */
export interface FakeWorker {
  readonly url: string;
  readonly name: string;
  /** 1 for the first worker started, and so on. */
  readonly index: number;
  readonly agent: string;
  readonly alive: boolean;
  /** Tabs that connected (each `new SharedWorker`). */
  readonly connections: number;
  /** The browser ends the worker: its locks are released, its ports closed, nothing of it runs again. */
  terminate(): void;
}

interface WorkerInstance extends FakeWorker {
  alive: boolean;
  connections: number;
  started: boolean;
  scope: SharedWorkerScope;
  /** Connections that arrived before the script ran. */
  waiting: MessagePort[];
  /** The worker's ends of its ports (connections and ports transferred to it). */
  ports: Set<MessagePort>;
  clients: FakeSharedWorker[];
  stop?: () => void;
}

/** The worker's end of a connection: a MessagePort whose listeners run as the worker. */
function workerPort(worker: WorkerInstance, port: MessagePort): MessagePort {
  const listeners = new Map<unknown, EventListener>();
  // Named MessagePort, as the real one is (code may tell ports by their constructor).
  const WorkerSide = class MessagePort {
    postMessage(message: unknown, transfer?: Transferable[] | StructuredSerializeOptions): void {
      if (!worker.alive) return;
      port.postMessage(message, transfer as Transferable[]);
    }
    addEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
      const wrapped = ((event: MessageEvent) => {
        if (!worker.alive) return;
        for (const transferred of event.ports ?? []) worker.ports.add(transferred);
        runAs(worker.agent, () => (typeof listener === 'function' ? listener(event) : listener.handleEvent(event)));
      }) as EventListener;
      listeners.set(listener, wrapped);
      port.addEventListener(type, wrapped);
    }
    removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void {
      const wrapped = listeners.get(listener);
      if (wrapped) port.removeEventListener(type, wrapped);
      listeners.delete(listener);
    }
    start(): void {
      port.start();
    }
    close(): void {
      port.close();
    }
    /** As in a browser: setting it listens, replacing the listener set before, and starts the port. */
    set onmessage(listener: ((event: MessageEvent) => void) | null) {
      if (handler) this.removeEventListener('message', handler as EventListener);
      handler = listener ?? undefined;
      if (!handler) return;
      this.addEventListener('message', handler as EventListener);
      this.start();
    }
  };
  let handler: ((event: MessageEvent) => void) | undefined;
  return new WorkerSide() as unknown as MessagePort;
}

let sharedWorkerScript: WorkerScript | undefined;
let workerTeardownMs = 0;
let constructionError: (() => unknown) | undefined;
const workers: WorkerInstance[] = [];
const liveWorkers = new Map<string, WorkerInstance>();
/** Tab-side ports of SharedWorker connections, by the agent that made them. */
const tabPorts: { agent: string; port: MessagePort }[] = [];
const terminateHooks: ((agent: string) => void)[] = [];

function startWorker(url: string, name: string): WorkerInstance {
  const index = workers.length + 1;
  const worker: WorkerInstance = {
    url,
    name,
    index,
    agent: `worker${index}`,
    alive: true,
    connections: 0,
    started: false,
    scope: { onconnect: null },
    waiting: [],
    ports: new Set(),
    clients: [],
    terminate: () => terminateWorker(worker),
  };
  workers.push(worker);
  liveWorkers.set(`${url}\n${name}`, worker);
  const script = sharedWorkerScript;
  Promise.resolve()
    .then(() => {
      if (!script) throw new Error(`No worker script at ${url}`);
      return script({ url, name, index });
    })
    .then(
      (run) => {
        if (!worker.alive) return;
        const stop = runAs(worker.agent, () => run(worker.scope));
        if (typeof stop === 'function') worker.stop = stop;
        worker.started = true;
        for (const port of worker.waiting.splice(0)) connectWorker(worker, port);
      },
      () => {
        // A script that fails to load or throws: every SharedWorker object of it gets an error event.
        for (const client of worker.clients) client.onerror?.call(client as unknown as AbstractWorker, new Event('error'));
      },
    );
  return worker;
}

function connectWorker(worker: WorkerInstance, port: MessagePort): void {
  if (!worker.alive) return;
  if (!worker.started) {
    worker.waiting.push(port);
    return;
  }
  const end = workerPort(worker, port);
  runAs(worker.agent, () => worker.scope.onconnect?.({ data: null, ports: [end] } as unknown as MessageEvent));
}

function terminateWorker(worker: WorkerInstance): void {
  if (!worker.alive) return;
  worker.alive = false;
  const key = `${worker.url}\n${worker.name}`;
  const forget = () => liveWorkers.get(key) === worker && liveWorkers.delete(key);
  if (workerTeardownMs > 0) setTimeout(forget, workerTeardownMs);
  else forget();
  worker.stop?.();
  for (const port of worker.ports) port.close();
  for (const port of worker.waiting) port.close();
  terminateAgent(worker.agent);
}

/**
 * `new SharedWorker(url, { name })`: tabs naming the same URL and name share one worker, which
 * runs the installed script once; each construction connects a new port (`onconnect`).
 */
class FakeSharedWorker {
  readonly port: MessagePort;
  onerror: ((this: AbstractWorker, event: Event) => unknown) | null = null;

  constructor(url: string | URL, options?: string | WorkerOptions) {
    if (constructionError) throw constructionError();
    const name = typeof options === 'string' ? options : (options?.name ?? '');
    const href = String(url);
    const worker = liveWorkers.get(`${href}\n${name}`) ?? startWorker(href, name);
    const { port1, port2 } = new MessageChannel();
    this.port = closable(port1);
    tabPorts.push({ agent: currentAgent(), port: port1 });
    worker.connections++;
    worker.clients.push(this);
    worker.ports.add(port2);
    connectWorker(worker, port2);
  }
}

/**
 * A browser's port dispatches nothing once closed, even messages already queued; Node's goes on
 * dispatching what was queued before close().
 */
function closable(port: MessagePort): MessagePort {
  let closed = false;
  const listeners = new Map<unknown, EventListener>();
  const { addEventListener, removeEventListener, close } = port;
  port.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
    const wrapped = ((event: Event) => closed || (typeof listener === 'function' ? listener.call(port, event) : listener.handleEvent(event))) as EventListener;
    listeners.set(listener, wrapped);
    addEventListener.call(port, type, wrapped);
  }) as MessagePort['addEventListener'];
  port.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject) => {
    removeEventListener.call(port, type, listeners.get(listener) ?? listener);
    listeners.delete(listener);
  }) as MessagePort['removeEventListener'];
  port.close = () => {
    closed = true;
    close.call(port);
  };
  // As in a browser: setting it listens (through the listeners above, so a closed port stays
  // silent), replacing the listener set before, and starts the port.
  let handler: ((event: MessageEvent) => void) | undefined;
  Object.defineProperty(port, 'onmessage', {
    configurable: true,
    set(listener: ((event: MessageEvent) => void) | null) {
      if (handler) port.removeEventListener('message', handler);
      handler = listener ?? undefined;
      if (!handler) return;
      port.addEventListener('message', handler);
      port.start();
    },
  });
  return port;
}

// ---------------------------------------------------------------------------------------------
// Termination

function terminateAgent(agent: string): void {
  const state = agentState(agent);
  if (state.dead) return;
  lockManager?.terminate(agent);
  for (const channel of channels) if (channel.agent === agent && !channel.closed) channel.close();
  for (const { port } of tabPorts.filter((p) => p.agent === agent)) port.close();
  for (const hook of terminateHooks) hook(agent);
  state.dead = true;
}

// ---------------------------------------------------------------------------------------------
// Install

/** Options of {@link installFakePlatform}. */
export interface PlatformOptions {
  /** `navigator.locks` exists (Web Locks: secure contexts). @default true */
  locks?: boolean;
  /** Installs `SharedWorker`, running this script in each worker started. @default none */
  sharedWorker?: WorkerScript;
  /**
   * For this long after a worker is terminated, a `new SharedWorker` of its URL and name connects
   * to it, dead, and is never answered: Firefox ESR tears a worker down so (Chromium starts a new
   * one at once). @default 0
   */
  workerTeardownMs?: number;
}

/** The installed fakes. */
export interface FakePlatform {
  /** The lock manager shared by every agent (`navigator.locks` is its view for the current agent). */
  readonly locks: FakeLockManager;
  /** Every BroadcastChannel made since install. */
  readonly channels: readonly ChannelRecord[];
  /** Every SharedWorker started since install, first first. */
  readonly workers: readonly FakeWorker[];
  /** Runs `fn` as `agent` (a tab, a worker). */
  within<T>(agent: string, fn: () => T): T;
  /** The agent running now. */
  agent(): string;
  /** Makes `new SharedWorker()` throw what `error()` returns; undefined lets it construct again. */
  failSharedWorker(error: (() => unknown) | undefined): void;
  /** Fires `pagehide` in `agent`'s page; `persisted` (the default) freezes it in the back/forward cache. */
  pagehide(agent?: string, init?: { persisted?: boolean }): void;
  /** Thaws `agent`'s page and fires `pageshow` (`persisted` true by default: back from the cache). */
  pageshow(agent?: string, init?: { persisted?: boolean }): void;
  /** Channel messages dispatched to `agent`'s page while it was frozen (Chromium would have evicted it). */
  messagesWhileFrozen(agent?: string): number;
  /** The page closes: `pagehide` (not persisted), then the page is gone ({@link FakePlatform.terminate}). */
  closePage(agent?: string): void;
  /** `agent` ends without a word (a crash, a killed worker): its locks, channels and ports go. */
  terminate(agent: string): void;
  /** Runs `hook(agent)` whenever an agent is terminated (e.g. to drop its upstreams). */
  onTerminate(hook: (agent: string) => void): void;
  /** Puts everything back as it was and closes every channel and port left open. */
  uninstall(): void;
}

let lockManager: FakeLockManager | undefined;
let installed = false;

/** Installs the fakes on globalThis. One platform at a time; `uninstall()` it after each test. */
export function installFakePlatform(options: PlatformOptions = {}): FakePlatform {
  if (installed) throw new Error('A fake platform is installed already: uninstall it first');
  installed = true;
  const locks = new FakeLockManager();
  lockManager = locks;
  const g = globalThis as Record<string, unknown>;
  const saved = new Map<string, PropertyDescriptor | undefined>();
  const define = (key: string, descriptor: PropertyDescriptor) => {
    saved.set(key, Object.getOwnPropertyDescriptor(g, key));
    Object.defineProperty(g, key, { configurable: true, ...descriptor });
  };
  const withLocks = options.locks ?? true;
  define('navigator', {
    value: Object.defineProperty({}, 'locks', { get: () => (withLocks ? locks.view(currentAgent()) : undefined), enumerable: true }),
    writable: true,
  });
  define('BroadcastChannel', { value: TrackedBroadcastChannel, writable: true });
  define('addEventListener', { value: addPageListener, writable: true });
  define('removeEventListener', { value: removePageListener, writable: true });
  define('dispatchEvent', { value: (event: Event) => dispatchPageEvent(currentAgent(), event), writable: true });
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const schedule = g[name] as (fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => unknown;
    define(name, {
      value(fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) {
        const agent = currentAgent();
        return schedule((...a: unknown[]) => runAs(agent, () => fn(...a)), ms, ...args);
      },
      writable: true,
    });
  }
  if (options.sharedWorker) {
    sharedWorkerScript = options.sharedWorker;
    workerTeardownMs = options.workerTeardownMs ?? 0;
    define('SharedWorker', { value: FakeSharedWorker, writable: true });
  }

  const platform: FakePlatform = {
    locks,
    channels,
    workers,
    within: (agent, fn) => {
      if (isDead(agent)) throw new Error(`Agent ${agent} is gone`);
      return runAs(agent, fn) as ReturnType<typeof fn>;
    },
    agent: currentAgent,
    failSharedWorker(error) {
      constructionError = error;
    },
    pagehide(agent = DEFAULT_AGENT, init = {}) {
      const persisted = init.persisted ?? true;
      dispatchPageEvent(agent, new FakePageTransitionEvent('pagehide', { persisted }));
      if (persisted) agentState(agent).frozen = true;
    },
    messagesWhileFrozen: (agent = DEFAULT_AGENT) => agentState(agent).messagesWhileFrozen,
    pageshow(agent = DEFAULT_AGENT, init = {}) {
      agentState(agent).frozen = false;
      dispatchPageEvent(agent, new FakePageTransitionEvent('pageshow', { persisted: init.persisted ?? true }));
    },
    closePage(agent = DEFAULT_AGENT) {
      dispatchPageEvent(agent, new FakePageTransitionEvent('pagehide', { persisted: false }));
      terminateAgent(agent);
    },
    terminate: terminateAgent,
    onTerminate(hook) {
      terminateHooks.push(hook);
    },
    uninstall() {
      for (const worker of workers) terminateWorker(worker);
      for (const channel of channels) if (!channel.closed) channel.close();
      for (const { port } of tabPorts) port.close();
      for (const [key, descriptor] of saved) {
        if (descriptor) Object.defineProperty(g, key, descriptor);
        else delete g[key];
      }
      channels.length = 0;
      workers.length = 0;
      liveWorkers.clear();
      tabPorts.length = 0;
      terminateHooks.length = 0;
      pageListeners.length = 0;
      agents.clear();
      sharedWorkerScript = undefined;
      workerTeardownMs = 0;
      constructionError = undefined;
      lockManager = undefined;
      installed = false;
    },
  };
  return platform;
}
