import { createConnection, type Connection, type ConnectionOptions } from '../engine/connection.js';
import { createConnectionScope, type ConnectionScope } from '../engine/connection-scope.js';
import { CATCH_UP_CHARS, GRACE_MS, HEADERS_STAGGER_MS, LATEST_CHARS, PLACE_BY_ID_EVENTS } from '../protocol/limits.js';
import { randomId } from '../protocol/random-id.js';
import { isStart } from '../protocol/stream.js';
import type { Frame, TabMessage } from '../protocol/tab-hub-messages.js';
import type { HeadersInit } from '../protocol/types.js';
import { createFlushScheduler } from './flush-scheduler.js';
import { createFlushTick } from './flush-tick.js';
import { createSharedStream, type SharedStream, type StreamHost } from './shared-stream.js';
import { streamKey } from './stream-key.js';
import type { Subscription, TabSink } from './subscription.js';

/** What a hub opens an upstream with: a connection's options but for the realm's scope, which the opener brings. */
export type UpstreamOptions = Omit<ConnectionOptions, 'scope'>;

/** The messages of the tab-hub contract a hub itself handles: the rest is the link's business. */
export type HubRequest = Extract<TabMessage, { kind: 'subscribe' | 'update' | 'unsubscribe' | 'detach' | 'claim' | 'ran' | 'visibility' }>;

/** One party of the hub: a tab (through a port or a channel), or the page's own clients. */
export interface HubEndpoint {
  /** Everything this endpoint's subscriptions got since the last flush, in order. One call per flush. */
  deliver(frames: Frame[]): void;
  /** Asks this endpoint's headers provider for subscription `sub`. May reject, or never settle (a dead tab). */
  headers(sub: number): Promise<HeadersInit>;
}

/** The hub as one endpoint sees it: the handler of its requests. */
export interface HubPeer {
  /** Handles one request of the endpoint; requests are handled in the order they come. */
  handle(request: HubRequest): void;
}

/** Streams by key, shared by every endpoint. */
export interface Hub {
  attach(endpoint: HubEndpoint): HubPeer;
  /** Closes every upstream at once and forgets every endpoint (a leader stepping down). */
  close(): void;
}

/** Options of {@link createHub}. */
export interface HubOptions {
  /** An upstream whose last subscriber left with its page closes after this. @default GRACE_MS */
  graceMs?: number;
  /** Characters of recent events kept per stream for subscribers that come back behind it; 0 keeps none. @default CATCH_UP_CHARS */
  catchUpChars?: number;
  /** Events a subscriber placed by an id the stream cannot order waits for it before it is told of a gap. @default PLACE_BY_ID_EVENTS */
  placeByIdEvents?: number;
  /** Characters of last events kept per stream for `latest: true` listeners. @default LATEST_CHARS */
  latestChars?: number;
  /** A headers provider that has not answered by then is not waited for alone: the next one is asked too. @default HEADERS_STAGGER_MS */
  staggerMs?: number;
  /** Runs a flush after the current task. @default a MessageChannel tick, not throttled in hidden tabs */
  schedule?: (flush: () => void) => void;
  /**
   * Fewest milliseconds between two flushes, given how many endpoints the hub serves and how long
   * the last flush took (see src/hub/flush-scheduler.ts). A hub in a hidden tab must keep 0, its
   * timers being throttled.
   * @default () => 0
   */
  flushGap?: (endpoints: number, lastFlushMs: number) => number;
  /** Opens an upstream. @default createConnection, in a scope of this hub's own */
  connect?: (options: UpstreamOptions) => Connection;
  /** Names a new lineage of positions. @default randomId */
  lineage?: () => string;
}

/** What a hub keeps of one endpoint. */
interface Peer extends TabSink {
  endpoint: HubEndpoint;
  visible: boolean;
  focusedAt: number;
  subs: Map<number, [Subscription, SharedStream]>;
  frames: Frame[];
}

/**
 * Keeps one upstream per stream key (./shared-stream.ts) and delivers what its subscriptions get
 * to their endpoints, coalesced: each endpoint gets one `deliver` per flush, whatever the event
 * rate, because per-event messages between tabs and a worker fall behind at a few thousand events
 * per second (measured: one postMessage per event and tab, 20 tabs at 10,000 events/s, most events
 * were still queued when the burst ended; one message per tab and flush delivered all at p50 3 ms).
 */
export function createHub(options: HubOptions = {}): Hub {
  const tick = options.schedule ? undefined : createFlushTick();
  const connect = options.connect ?? connectIn(createConnectionScope());
  const flushGap = options.flushGap ?? (() => 0);
  const lineage = options.lineage ?? randomId;
  const streams = new Map<string, SharedStream>();
  const peers = new Set<Peer>();
  const dirtyStreams: SharedStream[] = [];
  const dirtyPeers = new Set<Peer>();
  const scheduler = createFlushScheduler(flush, options.schedule ?? tick!.schedule, (ms) => flushGap(peers.size, ms));

  const host: StreamHost = {
    connect,
    dirty(stream) {
      dirtyStreams.push(stream);
      scheduler.request();
    },
    flushSoon: scheduler.request,
    gone(stream) {
      if (streams.get(stream.key) === stream) streams.delete(stream.key);
    },
    graceMs: options.graceMs ?? GRACE_MS,
    catchUpChars: options.catchUpChars ?? CATCH_UP_CHARS,
    placeByIdEvents: options.placeByIdEvents ?? PLACE_BY_ID_EVENTS,
    latestChars: options.latestChars ?? LATEST_CHARS,
    staggerMs: options.staggerMs ?? HEADERS_STAGGER_MS,
  };

  function flush(): void {
    for (const stream of dirtyStreams) stream.collect();
    dirtyStreams.length = 0;
    for (const peer of dirtyPeers) {
      const frames = peer.frames;
      peer.frames = [];
      peer.endpoint.deliver(frames);
    }
    dirtyPeers.clear();
  }

  function handle(peer: Peer, request: HubRequest): void {
    if (request.kind === 'visibility') {
      peer.visible = request.visible;
      peer.focusedAt = request.focusedAt;
      for (const stream of new Set([...peer.subs.values()].map(([, stream]) => stream))) stream.tabsChanged();
      return;
    }
    if (request.kind === 'detach') {
      for (const [s, stream] of peer.subs.values()) stream.remove(s, true);
      peer.subs.clear();
      dirtyPeers.delete(peer);
      peer.frames = [];
      peers.delete(peer);
      return;
    }
    const entry = peer.subs.get(request.sub);
    if (request.kind === 'subscribe') {
      if (entry) return;
      const { spec, position } = request;
      const key = streamKey(spec);
      let stream = streams.get(key);
      if (!stream) {
        const start = isStart(position) ? { id: '', count: 0, lineage: lineage() } : position;
        streams.set(key, (stream = createSharedStream(key, spec, start, host)));
      }
      peer.subs.set(request.sub, [stream.add(peer, request), stream]);
    } else if (entry) {
      const [s, stream] = entry;
      if (request.kind === 'update') stream.update(s, request.filter, request.position);
      else if (request.kind === 'ran') stream.ran(s, request.seq);
      else if (request.kind === 'claim') stream.claim(s, request.seq);
      else if (request.kind === 'unsubscribe') {
        peer.subs.delete(request.sub);
        stream.remove(s, request.grace);
      }
    }
  }

  return {
    attach(endpoint) {
      const peer: Peer = {
        endpoint,
        subs: new Map(),
        frames: [],
        visible: false,
        focusedAt: 0,
        push(frame) {
          peer.frames.push(frame);
          dirtyPeers.add(peer);
        },
        headers: (sub) => endpoint.headers(sub),
      };
      peers.add(peer);
      return { handle: (request) => handle(peer, request) };
    },
    close() {
      for (const stream of [...streams.values()]) stream.close();
      for (const peer of peers) peer.subs.clear();
      peers.clear();
      dirtyPeers.clear();
      dirtyStreams.length = 0;
      scheduler.close();
      tick?.close();
    },
  };
}

/** Opens upstreams with `createConnection` in `scope`: the connections of one realm share it. */
export function connectIn(scope: ConnectionScope): (options: UpstreamOptions) => Connection {
  return (options) => createConnection({ ...options, scope });
}
