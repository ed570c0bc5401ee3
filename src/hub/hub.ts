import { createConnection, type Connection, type ConnectionOptions } from '../engine/connection.js';
import type { Frame, SubscribeRequest } from '../protocol/messages.js';
import { streamKey, type ConnectionStatus, type StreamSpec, type TypeFilter } from '../protocol/stream.js';
import type { HeadersInit, WireEvent } from '../protocol/types.js';

/** One party of the hub: a tab (through a port), a follower (through a channel) or the local client. */
export interface HubEndpoint {
  /** Everything this endpoint's subscriptions got since the last flush, in order. One call per flush. */
  deliver(frames: Frame[]): void;
  /** Asks this endpoint's headers provider for subscription `sub`. May reject (a dead tab). */
  headers(sub: number): Promise<HeadersInit>;
}

/** The hub as one endpoint sees it. */
export interface HubPeer {
  subscribe(request: SubscribeRequest): void;
  setTypes(sub: number, types: TypeFilter): void;
  unsubscribe(sub: number): void;
  /** Drops every subscription of this endpoint. */
  detach(): void;
}

/** Streams by key, shared by every endpoint. */
export interface Hub {
  attach(endpoint: HubEndpoint): HubPeer;
  /** Open upstreams and their subscriber counts, for diagnostics. */
  streams(): { key: string; subscribers: number; status: ConnectionStatus }[];
}

/** Options of {@link createHub}. */
export interface HubOptions {
  /** An upstream with no subscriber closes after this. @default 3000 */
  graceMs?: number;
  /** Headers provider calls that take longer are given up (a tab that died mid-call). @default 10000 */
  headersTimeoutMs?: number;
  /** Runs a flush after the current task. @default setTimeout(fn, 0) */
  schedule?: (flush: () => void) => void;
  /** @default createConnection */
  connect?: (options: ConnectionOptions) => Connection;
  /** Recent events kept per stream for subscribers that join behind it. @default 512 */
  catchUp?: number;
}

interface Peer {
  endpoint: HubEndpoint;
  subs: Map<number, Subscription>;
  frames: Frame[];
}

interface Subscription {
  peer: Peer;
  sub: number;
  stream: Stream;
  all: boolean;
  types: ReadonlySet<string>;
  dynamicHeaders: boolean;
}

interface Stream {
  key: string;
  spec: StreamSpec;
  subs: Set<Subscription>;
  /** The last events routed, a ring: a subscriber that joins behind the stream catches up from it. */
  recent: WireEvent[];
  recentAt: number;
  /** The id the upstream resumed from: the position just before the first recent event. */
  startId: string;
  connection?: Connection;
  status?: ConnectionStatus;
  closeTimer?: ReturnType<typeof setTimeout>;
}

/**
 * Keeps one upstream connection per stream key and routes its events to the subscriptions that
 * listen to their type. Events are coalesced: each endpoint gets one `deliver` per flush (one
 * task), whatever the event rate, because per-event messages between tabs and a worker fall
 * behind at a few thousand events per second (shared/docs/field-notes.md).
 */
export function createHub(options: HubOptions = {}): Hub {
  const graceMs = options.graceMs ?? 3000;
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const schedule = options.schedule ?? ((flush) => void setTimeout(flush, 0));
  const connect = options.connect ?? createConnection;
  const catchUp = options.catchUp ?? 512;
  const streams = new Map<string, Stream>();
  const dirty = new Set<Peer>();
  let flushQueued = false;

  function flush(): void {
    flushQueued = false;
    for (const peer of dirty) {
      const frames = peer.frames;
      peer.frames = [];
      peer.endpoint.deliver(frames);
    }
    dirty.clear();
  }

  function markDirty(peer: Peer): void {
    dirty.add(peer);
    if (!flushQueued) {
      flushQueued = true;
      schedule(flush);
    }
  }

  // The per-event path: one ring write, then one type check and one push per interested subscription.
  function route(stream: Stream, event: WireEvent): void {
    stream.recent[stream.recentAt++ % catchUp] = event;
    for (const s of stream.subs) if (s.all || s.types.has(event.type)) queue(s, event);
  }

  function queue(s: Subscription, event: WireEvent): void {
    const frames = s.peer.frames;
    const last = frames[frames.length - 1];
    if (last?.kind === 'events' && last.sub === s.sub) last.events.push(event);
    else frames.push({ kind: 'events', sub: s.sub, events: [event] });
    markDirty(s.peer);
  }

  /**
   * A subscriber that joins a running stream from an older id (tabs resubscribing after a worker
   * restart or a leader takeover, while the new upstream already replays) gets what it missed,
   * when its id is still among the recent events.
   */
  function catchUpFrom(s: Subscription, lastEventId: string): void {
    const { recent, recentAt, startId } = s.stream;
    const oldest = Math.max(0, recentAt - catchUp);
    // Where the subscriber stands is where this upstream started: it missed everything routed.
    let from = oldest === 0 && lastEventId === startId ? 0 : -1;
    for (let i = recentAt - 1; i >= oldest; i--) {
      if (recent[i % catchUp]!.id === lastEventId) {
        from = i + 1;
        break;
      }
    }
    if (from < 0) return;
    for (let i = from; i < recentAt; i++) {
      const event = recent[i % catchUp]!;
      if (s.all || s.types.has(event.type)) queue(s, event);
    }
  }

  function sendStatus(s: Subscription, status: ConnectionStatus): void {
    s.peer.frames.push({ kind: 'status', sub: s.sub, status });
    markDirty(s.peer);
  }

  /** Asks the subscribers' providers in turn: the first live tab answers. */
  async function headersFor(stream: Stream): Promise<HeadersInit> {
    if (!stream.spec.dynamicHeaders) return stream.spec.headers ?? {};
    let lastError: unknown = new Error('No subscriber can provide headers');
    for (const s of [...stream.subs]) {
      if (!s.dynamicHeaders) continue;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        return await Promise.race([
          s.peer.endpoint.headers(s.sub),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('The headers provider did not answer')), headersTimeoutMs);
          }),
        ]);
      } catch (error) {
        lastError = error;
      } finally {
        clearTimeout(timer);
      }
    }
    throw lastError;
  }

  function open(stream: Stream, lastEventId: string): void {
    const spec = stream.spec;
    stream.connection = connect({
      url: spec.url,
      transport: spec.transport,
      withCredentials: spec.withCredentials,
      method: spec.method,
      ...(spec.body !== undefined ? { body: spec.body } : {}),
      backoff: spec.backoff,
      heartbeatTimeoutMs: spec.heartbeatTimeoutMs,
      maxEventSize: spec.maxEventSize,
      headers: () => headersFor(stream),
      customHeaders: spec.dynamicHeaders || Object.keys(spec.headers ?? {}).length > 0,
      lastEventId,
      eventTypes: typesOf(stream),
      onEvent: (event) => route(stream, event),
      onStatus: (status) => {
        stream.status = status;
        // A stream that closed for good is forgotten, so a later subscriber opens a fresh one.
        if (status.state === 'closed') forget(stream);
        for (const s of stream.subs) sendStatus(s, status);
      },
    });
  }

  function typesOf(stream: Stream): Set<string> {
    const types = new Set<string>();
    for (const s of stream.subs) for (const t of s.types) types.add(t);
    return types;
  }

  function release(s: Subscription): void {
    const stream = s.stream;
    stream.subs.delete(s);
    s.peer.subs.delete(s.sub);
    if (stream.subs.size > 0) return;
    // A reload leaves and comes back within the grace period: keep the upstream for it.
    stream.closeTimer = setTimeout(() => {
      forget(stream);
      stream.connection?.close();
    }, graceMs);
  }

  function forget(stream: Stream): void {
    if (streams.get(stream.key) === stream) streams.delete(stream.key);
  }

  function applyTypes(s: Subscription, types: TypeFilter): void {
    s.all = types.includes('*');
    s.types = new Set(types.filter((t) => t !== '*'));
    for (const t of s.types) s.stream.connection?.listen(t);
  }

  return {
    attach(endpoint) {
      const peer: Peer = { endpoint, subs: new Map(), frames: [] };
      return {
        subscribe({ sub, spec, types, lastEventId }) {
          if (peer.subs.has(sub)) return;
          const key = streamKey(spec);
          let stream = streams.get(key);
          if (!stream) {
            stream = { key, spec, subs: new Set(), recent: [], recentAt: 0, startId: lastEventId };
            streams.set(key, stream);
          }
          clearTimeout(stream.closeTimer);
          const s: Subscription = { peer, sub, stream, all: false, types: new Set(), dynamicHeaders: spec.dynamicHeaders };
          stream.subs.add(s);
          peer.subs.set(sub, s);
          applyTypes(s, types);
          if (stream.connection) {
            if (stream.status) sendStatus(s, stream.status);
            if (lastEventId) catchUpFrom(s, lastEventId);
          } else {
            open(stream, lastEventId);
          }
        },
        setTypes(sub, types) {
          const s = peer.subs.get(sub);
          if (s) applyTypes(s, types);
        },
        unsubscribe(sub) {
          const s = peer.subs.get(sub);
          if (s) release(s);
        },
        detach() {
          for (const s of [...peer.subs.values()]) release(s);
          dirty.delete(peer);
          peer.frames = [];
        },
      };
    },
    streams() {
      return [...streams.values()]
        .filter((s) => s.status)
        .map((s) => ({ key: s.key, subscribers: s.subs.size, status: s.status! }));
    },
  };
}
