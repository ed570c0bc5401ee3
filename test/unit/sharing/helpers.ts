/**
 * Helpers of the sharing tests: a fake SSE server behind the hub's `connect`, subscribers that
 * record what a client would see, tabs as fresh module graphs, and a hub that records what it is
 * asked.
 */
import { vi } from 'vitest';
import type { Connection } from '../../../src/engine/connection.js';
import type { UpstreamOptions as ConnectionOptions } from '../../../src/hub/hub.js';
import type { Hub, HubEndpoint } from '../../../src/hub/hub.js';
import { namespaceOf } from '../../../src/protocol/release.js';
import type { SubscribeMessage } from '../../../src/protocol/tab-hub-messages.js';
import { START, type ConnectionStatus, type Filter, type Position, type StreamSpec, type TabCount } from '../../../src/protocol/stream.js';
import type { HeadersInit, StatusError, WireEvent } from '../../../src/protocol/types.js';
import { leaderLink } from '../../../src/sharing/leader-link.js';
import type { Link, LinkSubscriber, LinkSubscription } from '../../../src/sharing/link.js';
import { localLink } from '../../../src/sharing/local-link.js';
import { sharedWorkerLink } from '../../../src/sharing/shared-worker-link.js';
import { createTabContext, type TabContext } from '../../../src/sharing/tab-context.js';
import type { FakePlatform } from '../../support/fake-platform.js';

/** Timers the tests fake: message ports, channels, microtasks and setImmediate stay real. */
export const FAKE_TIMERS = { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] } as const satisfies Parameters<
  typeof vi.useFakeTimers
>[0];

export const URL_A = 'https://example.test/events';
export const WORKER_URL = 'https://example.test/ssemux-worker.js';

export function spec(over: Partial<StreamSpec> = {}): StreamSpec {
  return {
    url: URL_A,
    transport: 'fetch',
    withCredentials: false,
    credentialsKey: '',
    backoff: { initialMs: 1000, maxMs: 30_000, factor: 2 },
    heartbeatTimeoutMs: 45_000,
    headersTimeoutMs: 10_000,
    maxConnections: 4,
    maxEventSize: 1024 * 1024,
    method: 'GET',
    topics: false,
    ...over,
  };
}

// ---------------------------------------------------------------------------------------------
// The server

/** One upstream request as the fake server sees it. */
export interface Upstream {
  options: ConnectionOptions;
  /** The agent (worker, leader tab) whose hub opened it. */
  agent: string;
  /** Where it resumed from (`Last-Event-ID`). */
  lastEventId: string;
  /** `restart()` calls (a hub rewinding it). */
  restarts: { url?: string; lastEventId?: string }[];
  /** Ids it sent, in order. */
  sent: string[];
  /** Closed by its hub. */
  closed: boolean;
  /** Its hub's realm died (the request went with it). */
  dropped: boolean;
  /** The response came: it sends events. */
  opened: boolean;
  readonly live: boolean;
  /** Asks for headers, as the connection does before an attempt. */
  headers(): Promise<HeadersInit>;
}

/**
 * An SSE server with one event log: an upstream opens (asynchronously) and replays what came
 * after its `Last-Event-ID`, then gets every event published while it is live. Each event's id
 * is its number in the log. `connect` stands in for `createConnection`.
 */
export function createFakeServer(platform?: FakePlatform) {
  const log: WireEvent[] = [];
  const upstreams: Upstream[] = [];

  function send(up: Upstream, event: WireEvent): void {
    up.sent.push(event.id);
    up.options.onEvent({ ...event });
  }

  function replay(up: Upstream, from: string): void {
    if (!up.live) return;
    const start = from === '' ? 0 : log.findIndex((e) => e.id === from) + 1;
    for (const event of log.slice(start)) send(up, event);
  }

  const server = {
    log,
    upstreams,
    /** Upstreams that are neither closed nor dropped. */
    live(): Upstream[] {
      return upstreams.filter((u) => u.live);
    },
    connect(options: ConnectionOptions): Connection {
      let status: ConnectionStatus = { state: 'connecting', reason: 'started', transport: 'fetch', attempt: 0, lastEventId: options.lastEventId };
      const up: Upstream = {
        options,
        agent: platform?.agent() ?? 'page',
        lastEventId: options.lastEventId,
        restarts: [],
        sent: [],
        closed: false,
        dropped: false,
        opened: false,
        get live() {
          return !up.closed && !up.dropped;
        },
        headers: () => Promise.resolve(options.headers()),
      };
      upstreams.push(up);
      const emit = (patch: Partial<ConnectionStatus>) => {
        status = { ...status, lastEventId: up.sent.at(-1) ?? options.lastEventId, ...patch };
        options.onStatus(status);
      };
      // Like createConnection: the first status before it returns, the response later.
      emit({});
      queueMicrotask(() => {
        if (!up.live) return;
        up.opened = true;
        emit({ state: 'open', reason: 'opened' });
        replay(up, options.lastEventId);
      });
      return {
        get status() {
          return status;
        },
        listen() {},
        reconnectNow() {},
        restart(change = {}) {
          up.restarts.push(change);
          const from = change.lastEventId ?? up.sent.at(-1) ?? options.lastEventId;
          queueMicrotask(() => replay(up, from));
        },
        close() {
          if (up.closed) return;
          up.closed = true;
          if (!up.dropped) emit({ state: 'closed', reason: 'closed' });
        },
      };
    },
    /** The server sends one event to every live upstream; returns its id. */
    publish(type = 'message', data?: string): string {
      const id = String(log.length + 1);
      const event: WireEvent = { type, data: data ?? `d${id}`, id };
      log.push(event);
      for (const up of upstreams) {
        if (up.live && up.opened) send(up, event);
      }
      return id;
    },
    /** Ids of the log, first to last. */
    ids(from = 1, to = log.length): string[] {
      return log.slice(from - 1, to).map((e) => e.id);
    },
  };
  platform?.onTerminate((agent) => {
    for (const up of upstreams) if (up.agent === agent) up.dropped = true;
  });
  return server;
}

export type FakeServer = ReturnType<typeof createFakeServer>;

// ---------------------------------------------------------------------------------------------
// Subscribers

/** A subscriber as the client is one: it keeps the position of every delivery and resubscribes from it. */
export interface Recorder extends LinkSubscriber {
  types: string[];
  events: WireEvent[];
  statuses: ConnectionStatus[];
  lost: StatusError[];
  at: Position;
  /** Topics it was still catching up on, as the hub last said. */
  joiningNow?: Record<string, Position>;
  /** The positions it got, in order. */
  positions: Position[];
  /** The tab counts it got, in order. */
  tabs: TabCount[];
  readonly ids: string[];
  readonly state: ConnectionStatus['state'] | undefined;
  headersCalls: number;
  subscription?: LinkSubscription;
}

export function recorder(
  options: { spec?: StreamSpec; types?: string[]; headers?: () => Promise<HeadersInit> } = {},
): Recorder {
  const r: Recorder = {
    spec: options.spec ?? spec(),
    types: options.types ?? ['*'],
    events: [],
    statuses: [],
    lost: [],
    at: START,
    positions: [],
    tabs: [],
    headersCalls: 0,
    get ids() {
      return r.events.map((e) => e.id);
    },
    get state() {
      return r.statuses.at(-1)?.state;
    },
    filter: (): Filter => ({ types: r.types }),
    position: () => r.at,
    oneDone: () => ({ ran: [] }),
    joining: () => r.joiningNow,
    onFrame({ events, at, joining }) {
      r.events.push(...events);
      r.at = at;
      r.joiningNow = joining;
      r.positions.push(at);
    },
    onTabs(tabs) {
      r.tabs.push(tabs);
    },
    onStatus(status) {
      r.statuses.push(status);
    },
    onLost(error) {
      r.lost.push(error);
    },
  };
  if (options.headers) {
    const provider = options.headers;
    r.headers = () => {
      r.headersCalls++;
      return provider();
    };
  }
  return r;
}

/** States a subscriber went through, repeats collapsed. */
export function states(r: Recorder): string[] {
  return r.statuses.map((s) => s.state).filter((s, i, all) => i === 0 || all[i - 1] !== s);
}

// ---------------------------------------------------------------------------------------------
// Hubs

/** A subscription request as the hub handles it. */
export type SubscribeRequest = Omit<SubscribeMessage, 'kind'>;

/** What a hub was asked, by whom. */
export type HubCall =
  | { kind: 'attach'; peer: number }
  | { kind: 'subscribe'; peer: number; request: SubscribeRequest }
  | { kind: 'update'; peer: number; sub: number; filter: Filter }
  | { kind: 'unsubscribe'; peer: number; sub: number; grace: boolean }
  | { kind: 'detach'; peer: number };

/** `hub`, recording every request of every endpoint into `calls` (peers numbered from 1); `onCall` sees each as it comes. */
export function recordingHub(hub: Hub, calls: HubCall[], onCall: (call: HubCall) => void = () => {}): Hub {
  let peers = 0;
  const record = (call: HubCall) => {
    calls.push(call);
    onCall(call);
  };
  return {
    close: () => hub.close(),
    attach(endpoint: HubEndpoint) {
      const peer = ++peers;
      record({ kind: 'attach', peer });
      const inner = hub.attach(endpoint);
      return {
        handle(request) {
          if (request.kind === 'subscribe') {
            const { kind: _, ...rest } = request;
            record({ kind: 'subscribe', peer, request: structuredClone(rest) });
          } else if (request.kind === 'update') record({ kind: 'update', peer, sub: request.sub, filter: request.filter });
          else if (request.kind === 'unsubscribe') record({ kind: 'unsubscribe', peer, sub: request.sub, grace: request.grace });
          else if (request.kind === 'detach') record({ kind: 'detach', peer });
          inner.handle(request);
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Tabs

/**
 * A tab: its own page context (its links to hubs, its page events), running as its own agent of
 * the platform. The links are reached as the client reaches them.
 */
export interface Tab {
  agent: string;
  context: TabContext;
  sw: { sharedWorkerLink(url: string): Link };
  leader: { leaderLink(group: string): Link };
  local: { localLink(): Link };
  /** Runs `fn` in this tab. */
  run<T>(fn: () => T): T;
  /** Subscribes `r` through the link `pick` chooses, in this tab. */
  subscribe(r: Recorder, pick: (tab: Tab) => { subscribe(s: LinkSubscriber): LinkSubscription }): Recorder;
}

/**
 * Opens tab `agent`: a page context of its own. `release` makes it a page of another release of
 * the library (its names carry that release); `connect` opens the upstreams of hubs the tab runs
 * itself (leader and local modes).
 */
export async function openTab(
  platform: FakePlatform,
  agent: string,
  options: { release?: string; connect?: (options: ConnectionOptions) => Connection } = {},
): Promise<Tab> {
  const { release, connect } = options;
  const context = platform.within(agent, () =>
    createTabContext({ ...(release !== undefined && { namespace: namespaceOf(release) }), ...(connect && { connect }) }),
  );
  const tab: Tab = {
    agent,
    context,
    sw: { sharedWorkerLink: (url) => sharedWorkerLink(context, url) },
    leader: { leaderLink: (group) => leaderLink(context, group) },
    local: { localLink: () => localLink(context) },
    run: (fn) => platform.within(agent, fn),
    subscribe(r, pick) {
      r.subscription = tab.run(() => pick(tab).subscribe(r));
      return r;
    },
  };
  return tab;
}

/** Opens tabs one after the other, each its own agent and page context. */
export async function openTabs<const Agents extends readonly string[]>(
  platform: FakePlatform,
  options: Parameters<typeof openTab>[2],
  ...agents: Agents
): Promise<{ -readonly [K in keyof Agents]: Tab }>;
export async function openTabs(platform: FakePlatform, options: Parameters<typeof openTab>[2], ...agents: string[]): Promise<Tab[]> {
  const opened: Tab[] = [];
  for (const agent of agents) opened.push(await openTab(platform, agent, options));
  return opened;
}
