import { createConnection, type Connection, type ConnectionOptions } from '../engine/connection.js';
import { CATCH_UP_CHARS, GRACE_MS, TOPICS_DEBOUNCE_MS } from '../protocol/limits.js';
import { RealtimeError } from '../protocol/errors.js';
import type { Frame, SubscribeRequest } from '../protocol/messages.js';
import type { ConnectionStatus, Filter, Position, StreamSpec } from '../protocol/stream.js';
import { comparePositions } from './compare-positions.js';
import { streamKey } from './stream-key.js';
import type { HeadersInit, WireEvent } from '../protocol/types.js';
import { compareCursors, CONTROL_PREFIX, DENIED_EVENT, MAX_TOPIC_URL, RESET_EVENT, TOPIC_PARAM, type ResetNotice } from '../protocol/wire.js';
import { createCatchUpRing, type CatchUpRing } from './catch-up-ring.js';
import { createFlushTick } from './flush-tick.js';

/** One party of the hub: a tab (through a port or a channel) or the page's own clients. */
export interface HubEndpoint {
  /** Everything this endpoint's subscriptions got since the last flush, in order. One call per flush. */
  deliver(frames: Frame[]): void;
  /** Asks this endpoint's headers provider for subscription `sub`. May reject, or never settle (a dead tab). */
  headers(sub: number): Promise<HeadersInit>;
}

/** The hub as one endpoint sees it. */
export interface HubPeer {
  subscribe(request: SubscribeRequest): void;
  /** `position`: where the subscriber stood when it changed; topics it adds are read from there. */
  update(sub: number, filter: Filter, position: Position): void;
  /** `grace`: keep the upstream for {@link HubOptions.graceMs} in case the page comes back. */
  unsubscribe(sub: number, grace: boolean): void;
  /** Drops every subscription of this endpoint, with the grace period (its page is going away). */
  detach(): void;
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
  /** A headers provider that has not answered by then is not waited for alone: the next one is asked too. @default 1500 */
  staggerMs?: number;
  /** Runs a flush after the current task. @default a MessageChannel tick, not throttled in hidden tabs */
  schedule?: (flush: () => void) => void;
  /**
   * Fewest milliseconds between two flushes, given how many endpoints the hub serves: events that
   * come sooner wait for the next, so that a busy stream costs each endpoint a message per gap
   * rather than one per network read (a message to another process costs tens of microseconds,
   * however small). 0 flushes after every task that routed something; a hub in a hidden tab must
   * keep 0, its timers being throttled.
   * @default () => 0
   */
  flushGap?: (endpoints: number) => number;
  /** @default createConnection */
  connect?: (options: ConnectionOptions) => Connection;
  /** Names a new lineage of positions. @default a random id */
  lineage?: () => string;
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
  /** On a topic stream: the topics it receives. */
  topics?: ReadonlySet<string>;
  /**
   * Topics it added that the upstream did not carry, and where it stood then: when the upstream
   * goes back to take them in, their events after that point are new to it.
   */
  joins?: Map<string, Position>;
  provider: boolean;
  /**
   * Events owed to it ahead of its share of the stream's batch: caught up from the ring, read
   * while it stood ahead of the stream, or taken out of the batch under a filter it changed.
   */
  pending: WireEvent[];
  /** Where its share of the stream's batch starts: the events before it were routed before it came. */
  from: number;
  /** The position last sent to it: a flush that moved the stream tells it the new one. */
  at?: Position;
  /** It stands ahead of the stream (it resumed from further on): events up to here it already has. */
  skipTo?: Position;
  /** Like `skipTo` for a position that cannot be ordered against the stream: skip through this id. */
  skipToId?: string;
  /** Events skipped waiting for `skipToId`. */
  skipped: number;
}

interface Stream {
  key: string;
  spec: StreamSpec;
  subs: Set<Subscription>;
  /** Where the upstream stands: the last event id and the lineage count. Changed in place, copied at flush. */
  pos: Position;
  /** A topic stream: ids are protocol cursors, which order themselves, and data starts with the topic. */
  cursors: boolean;
  /** The topics the upstream carries (a topic stream), sorted. */
  union: string[];
  /** A change of the union waits for this, so that changes close together cost one reconnect. */
  unionTimer?: ReturnType<typeof setTimeout>;
  ring: CatchUpRing;
  /** Events routed since the last flush: each subscription's share is taken at the flush, shared by those with the same filter. */
  batch: WireEvent[];
  /** Subscriptions ahead of the stream (skipping what they have): the only ones routed event by event. */
  ahead: Set<Subscription>;
  connection?: Connection;
  status?: ConnectionStatus;
  /** Moved since the last flush. */
  dirty: boolean;
  /** The subscription whose provider answered last: the likeliest to answer again. */
  answered?: Subscription;
  closeTimer?: ReturnType<typeof setTimeout>;
}

/** How long a subscription that cannot be placed waits for its id before it is told of a gap. */
const PLACE_BY_ID_EVENTS = 10_000;

/**
 * Keeps one upstream per stream key and routes its events to the subscriptions that listen to
 * their type, **exactly once and in order**, wherever each subscription stands.
 *
 * The position of a stream belongs to its upstream, and every flush tells each subscription
 * where the stream stands, also when none of its types went by; the tab keeps that position and
 * resubscribes from it. A subscription that arrives (a new tab, a tab resubscribing after a worker
 * restart or a leader takeover, a page back from the back/forward cache) is placed against the
 * stream: at the same place it is live; ahead, it skips what it already has; a little behind, it
 * catches up from the recent events the hub keeps; further behind, the upstream goes back to its
 * position and the others skip what they already have.
 *
 * Events are coalesced: each endpoint gets one `deliver` per flush, whatever the event rate,
 * because per-event messages between tabs and a worker fall behind at a few thousand events per
 * second (measured: one postMessage per event and tab, 20 tabs at 10,000 events/s, most events
 * were still queued when the burst ended; one message per tab and flush delivered all at p50 3 ms).
 */
export function createHub(options: HubOptions = {}): Hub {
  const graceMs = options.graceMs ?? GRACE_MS;
  const catchUpChars = options.catchUpChars ?? CATCH_UP_CHARS;
  const staggerMs = options.staggerMs ?? 1500;
  const tick = options.schedule ? undefined : createFlushTick();
  const schedule = options.schedule ?? tick!.schedule;
  const connect = options.connect ?? createConnection;
  const lineage = options.lineage ?? (() => Math.random().toString(36).slice(2, 10));
  const flushGap = options.flushGap ?? (() => 0);
  const streams = new Map<string, Stream>();
  const peers = new Set<Peer>();
  const dirtyStreams: Stream[] = [];
  const dirtyPeers = new Set<Peer>();
  let flushQueued = false;
  let lastFlush = -Infinity;
  let gapTimer: ReturnType<typeof setTimeout> | undefined;

  function requestFlush(): void {
    if (flushQueued) return;
    flushQueued = true;
    const gap = flushGap(peers.size);
    // A monotonic clock: the wall clock may step back.
    const wait = gap && lastFlush + gap - performance.now();
    if (wait > 0) gapTimer = setTimeout(flush, wait);
    else schedule(flush);
  }

  function markDirty(stream: Stream): void {
    if (stream.dirty) return;
    stream.dirty = true;
    dirtyStreams.push(stream);
    requestFlush();
  }

  function flush(): void {
    flushQueued = false;
    lastFlush = performance.now();
    for (const stream of dirtyStreams) collect(stream);
    dirtyStreams.length = 0;
    for (const peer of dirtyPeers) {
      const frames = peer.frames;
      peer.frames = [];
      peer.endpoint.deliver(frames);
    }
    dirtyPeers.clear();
  }

  /**
   * Moves what the stream's subscriptions got into their endpoints' frames, with the stream's
   * position. Subscriptions with the same filter get the same array: a host serializes it once.
   */
  function collect(stream: Stream): void {
    stream.dirty = false;
    const batch = stream.batch;
    stream.batch = [];
    /** Each filter's share of the batch, for subscriptions whose share starts at its beginning. */
    const shares = new Map<string, WireEvent[]>();
    let at: Position | undefined;
    for (const s of stream.subs) {
      const from = s.from;
      s.from = 0;
      // A subscription ahead of the stream stands where it was until the stream passes it.
      if (s.skipTo || s.skipToId !== undefined) continue;
      let events = share(s, batch, from, shares);
      if (s.pending.length > 0) {
        events = s.pending.concat(events);
        s.pending = [];
      }
      if (events.length === 0 && s.at && s.at.n === stream.pos.n && s.at.id === stream.pos.id && s.at.l === stream.pos.l) continue;
      s.at = at ??= { ...stream.pos };
      push(s.peer, { sub: s.sub, events, at });
    }
  }

  /** The events of `batch` from `from` on that `s` listens to. */
  function share(s: Subscription, batch: WireEvent[], from: number, shares: Map<string, WireEvent[]>): WireEvent[] {
    if (from >= batch.length) return [];
    // '*' on a plain stream takes everything: the batch itself.
    if (from === 0 && s.all && !s.stream.cursors) return batch;
    const key = from === 0 ? `${s.all ? '*' : [...s.types].join('\n')}\t${s.topics ? [...s.topics].join('\n') : ''}` : undefined;
    let events = key === undefined ? undefined : shares.get(key);
    if (!events) {
      events = [];
      for (let i = from; i < batch.length; i++) if (matches(s, batch[i]!)) events.push(batch[i]!);
      if (key !== undefined) shares.set(key, events);
    }
    return events;
  }

  /** Takes `s`'s share of the batch so far into its pending events (its filter is about to change). */
  function settleShare(s: Subscription): void {
    const batch = s.stream.batch;
    if (s.stream.ahead.has(s)) return;
    for (let i = s.from; i < batch.length; i++) if (matches(s, batch[i]!)) s.pending.push(batch[i]!);
    s.from = batch.length;
  }

  /** Queues `frame` for the next flush (the caller makes sure one is coming). */
  function push(peer: Peer, frame: Frame): void {
    peer.frames.push(frame);
    dirtyPeers.add(peer);
  }

  // The per-event path: one position update, one ring write, one batch push; only subscriptions
  // ahead of the stream are looked at event by event.
  function route(stream: Stream, event: WireEvent): void {
    const type = event.type;
    if (type.charCodeAt(0) === 115 && type.startsWith(CONTROL_PREFIX)) return control(stream, event);
    const pos = stream.pos;
    pos.id = event.id;
    pos.n++;
    if (stream.cursors) {
      // The first data line is the topic (the server protocol in the README).
      const data = event.data;
      const nl = data.indexOf('\n');
      event.topic = nl < 0 ? data : data.slice(0, nl);
      event.data = nl < 0 ? '' : data.slice(nl + 1);
    }
    stream.ring.push(event, pos.n);
    stream.batch.push(event);
    for (const s of stream.ahead) {
      const skip = skipping(s, event);
      if (s.skipTo || s.skipToId !== undefined) {
        if (!skip && matches(s, event)) s.pending.push(event);
        continue;
      }
      // It has passed what it had: from this event (or the next, if it had this one) it shares the batch.
      stream.ahead.delete(s);
      s.from = stream.batch.length - (skip ? 0 : 1);
    }
    markDirty(stream);
  }

  /** A control event of the ssemux server (the server protocol in the README): never handed to listeners. */
  function control(stream: Stream, event: WireEvent): void {
    if (event.type === RESET_EVENT) {
      // The server could not replay from where the stream stood: say so to every subscriber.
      const notice = parseJson<ResetNotice>(event.data);
      stream.ring.clear(stream.pos);
      markDirty(stream);
      for (const s of stream.subs) gap(s, `The server could not replay from ${notice?.from ?? 'where the stream stood'} (${notice?.reason ?? 'reset'}): events may be missing`);
    } else if (event.type === DENIED_EVENT) {
      const denied = new Set(parseJson<string[]>(event.data) ?? []);
      for (const s of stream.subs) {
        const mine = [...(s.topics ?? [])].filter((t) => denied.has(t));
        if (mine.length === 0 || !stream.status) continue;
        sendStatus(s, { ...stream.status, error: { code: 'forbidden', status: 403, message: `The server does not let this client read ${mine.join(', ')}` } });
      }
    }
  }

  /** True while `event` is one a subscription ahead of the stream already has. */
  function skipping(s: Subscription, event: WireEvent): boolean {
    const stream = s.stream;
    if (s.skipTo) {
      if (comparePositions(stream.pos, s.skipTo, stream.cursors) <= 0) {
        // Except a topic it joined while the upstream went back for it: new to it after its join.
        const join = event.topic === undefined ? undefined : s.joins?.get(event.topic);
        return !join || comparePositions(stream.pos, join, true) <= 0;
      }
      s.skipTo = s.joins = undefined;
      return false;
    }
    if (event.id === s.skipToId) {
      s.skipToId = undefined;
      return true;
    }
    if (++s.skipped > PLACE_BY_ID_EVENTS) {
      // Its id never came: the replay did not hold it. Say so rather than drop on.
      s.skipToId = undefined;
      gap(s, `The stream did not pass position ${event.id} again; events may be missing`);
      return false;
    }
    return true;
  }

  function gap(s: Subscription, message: string): void {
    const status = s.stream.status;
    if (status) sendStatus(s, { ...status, error: { code: 'gap', message } });
  }

  /** Places a new subscription against its stream (see {@link createHub}). */
  function place(s: Subscription, position: Position): void {
    const stream = s.stream;
    if (position.id === '' && position.n === 0) {
      // A new subscriber starts where the stream stands; tell it where that is.
      s.at = undefined;
      return markDirty(stream);
    }
    const order = comparePositions(position, stream.pos, stream.cursors);
    if (order === 0) {
      s.at = { ...stream.pos };
      return;
    }
    if (order > 0) {
      s.skipTo = position;
      stream.ahead.add(s);
      return;
    }
    const missed = order < 0 ? stream.ring.after(position, stream.cursors) : stream.ring.afterId(position.id)?.events;
    if (missed) {
      for (const event of missed) if (matches(s, event)) s.pending.push(event);
      s.at = undefined;
      return markDirty(stream);
    }
    rewind(stream, position, s);
  }

  function matches(s: Subscription, event: WireEvent): boolean {
    return (s.all || s.types.has(event.type)) && (event.topic === undefined || s.topics!.has(event.topic));
  }

  /**
   * The upstream goes back to `position` (a subscription stands further behind than the hub
   * remembers, or topics were added that must be read from where they were asked for), and every
   * other subscription skips what it already has.
   */
  function rewind(stream: Stream, position: Position, behind?: Subscription): void {
    collect(stream);
    const comparable = !Number.isNaN(comparePositions(position, stream.pos, stream.cursors));
    for (const s of stream.subs) {
      if (s === behind || s.skipTo || s.skipToId !== undefined) continue;
      if (comparable) s.skipTo = { ...stream.pos };
      else if (stream.pos.id !== '') {
        s.skipToId = stream.pos.id;
        s.skipped = 0;
      } else continue;
      stream.ahead.add(s);
    }
    stream.pos = { ...position };
    stream.ring.clear(stream.pos);
    if (behind) behind.at = undefined;
    markDirty(stream);
    stream.connection?.restart({ ...upstreamRequest(stream), lastEventId: position.id });
  }

  /**
   * Where a topic stream's upstream asks: the union of its subscribers' topics in the query, or
   * in a POST body when the URL would be too long (not possible for the native EventSource,
   * which then sends the long URL).
   */
  function upstreamRequest(stream: Stream): { url?: string; body?: string | null } {
    if (!stream.cursors) return {};
    const url = new URL(stream.spec.url);
    for (const topic of stream.union) url.searchParams.append(TOPIC_PARAM, topic);
    const viaBody = url.href.length > MAX_TOPIC_URL && stream.connection?.status.transport !== 'eventsource';
    return viaBody ? { url: stream.spec.url, body: JSON.stringify({ topics: stream.union }) } : { url: url.href, body: null };
  }

  function unionOf(stream: Stream): string[] {
    const union = new Set<string>();
    for (const s of stream.subs) for (const topic of s.topics ?? []) union.add(topic);
    return [...union].sort();
  }

  function scheduleUnion(stream: Stream): void {
    stream.unionTimer ??= setTimeout(() => applyUnion(stream), TOPICS_DEBOUNCE_MS);
  }

  /**
   * Applies the subscribers' topics to the upstream, once per debounce window. Topics no one reads
   * any more are dropped; topics added are read from the earliest point a subscriber asked for one
   * (the upstream goes back there and the others skip what they have), so nothing published after
   * a subscriber named a topic is missed. With no topic left the upstream keeps what it carries
   * until a topic comes or its last subscriber leaves.
   */
  function applyUnion(stream: Stream): void {
    stream.unionTimer = undefined;
    const union = unionOf(stream);
    const joining = [...stream.subs].some((s) => s.joins?.size);
    if (union.length === 0 || (!joining && union.join('\n') === stream.union.join('\n'))) return;
    if (!stream.connection) return open(stream);
    stream.union = union;
    let from = stream.pos;
    for (const s of stream.subs) for (const at of s.joins?.values() ?? []) if (comparePositions(at, from, true) < 0) from = at;
    if (from !== stream.pos) return rewind(stream, from);
    for (const s of stream.subs) s.joins = undefined;
    stream.connection.restart({ ...upstreamRequest(stream), lastEventId: stream.pos.id });
  }

  function sendStatus(s: Subscription, status: ConnectionStatus): void {
    push(s.peer, { sub: s.sub, status });
    requestFlush();
  }

  /**
   * Asks the subscribers' providers for headers, the one that answered last first. A provider
   * that does not answer within `staggerMs` (a hung provider, a busy or frozen tab) is not waited
   * for alone: the next one is asked too, and the first answer wins.
   */
  function headersFor(stream: Stream): Promise<HeadersInit> {
    const first = stream.answered;
    const candidates = [...stream.subs].filter((s) => s.provider).sort((a, b) => +(b === first) - +(a === first));
    if (candidates.length === 0) return Promise.resolve(stream.spec.headers ?? {});
    const timeoutMs = stream.spec.headersTimeoutMs;
    return new Promise<HeadersInit>((resolve, reject) => {
      let asked = 0;
      let failed = 0;
      let done = false;
      let stagger: ReturnType<typeof setTimeout> | undefined;
      const deadline = setTimeout(
        () => finish(() => reject(new RealtimeError('headers', `The headers provider did not answer within ${timeoutMs} ms (headersTimeoutMs)`))),
        timeoutMs,
      );
      function finish(settle: () => void): void {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        clearTimeout(stagger);
        settle();
      }
      function askNext(): void {
        if (done || asked >= candidates.length) return;
        const s = candidates[asked++]!;
        clearTimeout(stagger);
        stagger = setTimeout(askNext, staggerMs);
        s.peer.endpoint.headers(s.sub).then(
          (headers) =>
            finish(() => {
              stream.answered = s;
              resolve(headers);
            }),
          (error: unknown) => {
            if (++failed === candidates.length) finish(() => reject(error));
            else askNext();
          },
        );
      }
      askNext();
    });
  }

  /** Opens the upstream from where the stream stands; a topic stream with no topic yet waits for one. */
  function open(stream: Stream): void {
    const spec = stream.spec;
    if (stream.cursors) {
      stream.union = unionOf(stream);
      if (stream.union.length === 0) return;
      for (const s of stream.subs) s.joins = undefined;
    }
    const request = upstreamRequest(stream);
    stream.ring.clear(stream.pos);
    stream.connection = connect({
      // The spec's fields are the connection's options (and a few it does not read).
      ...spec,
      url: request.url ?? spec.url,
      ...(request.body && { method: 'POST' as const, body: request.body }),
      headers: () => headersFor(stream),
      customHeaders: [...stream.subs].some((s) => s.provider) || Object.keys(spec.headers ?? {}).length > 0,
      lastEventId: stream.pos.id,
      eventTypes: [...typesOf(stream), RESET_EVENT, DENIED_EVENT],
      prelude: spec.topics,
      onEvent: (event) => route(stream, event),
      onId(id) {
        // An id-only block moves the stream without an event.
        if (stream.pos.id === id) return;
        stream.pos.id = id;
        stream.ring.moved(stream.pos);
        markDirty(stream);
      },
      onStatus(status) {
        stream.status = status;
        // A stream that closed for good is forgotten, so a later subscriber opens a fresh one.
        if (status.state === 'closed') forget(stream);
        // Events routed before the change reach the tabs before it.
        collect(stream);
        for (const s of stream.subs) sendStatus(s, status);
      },
    });
  }

  function typesOf(stream: Stream): Set<string> {
    const types = new Set<string>();
    for (const s of stream.subs) for (const t of s.types) types.add(t);
    return types;
  }

  function release(s: Subscription, grace: boolean): void {
    const stream = s.stream;
    stream.subs.delete(s);
    stream.ahead.delete(s);
    s.peer.subs.delete(s.sub);
    if (stream.answered === s) stream.answered = undefined;
    if (stream.subs.size > 0) {
      if (s.topics?.size) scheduleUnion(stream);
      return;
    }
    if (grace && graceMs > 0) {
      // A reload leaves and comes back within the grace period: keep the upstream for it.
      clearTimeout(stream.closeTimer);
      stream.closeTimer = setTimeout(() => end(stream), graceMs);
    } else {
      end(stream);
    }
  }

  function end(stream: Stream): void {
    clearTimeout(stream.closeTimer);
    clearTimeout(stream.unionTimer);
    forget(stream);
    stream.connection?.close();
  }

  function forget(stream: Stream): void {
    if (streams.get(stream.key) === stream) streams.delete(stream.key);
  }

  /**
   * Topics `s` added that the upstream already carries: their events after `position` (where it
   * stood when it asked) come from the hub's memory, in log order with what it has pending; if
   * that does not reach back so far, the upstream goes back for them as for a new topic.
   */
  function catchUpTopics(s: Subscription, topics: string[], position: Position): void {
    const stream = s.stream;
    const missed = stream.ring.after(position, true);
    if (!missed) {
      for (const topic of topics) (s.joins ??= new Map()).set(topic, { ...position });
      return scheduleUnion(stream);
    }
    const owed = missed.filter((event) => topics.includes(event.topic!) && (s.all || s.types.has(event.type)));
    if (owed.length === 0) return;
    s.pending = [...s.pending, ...owed].sort((a, b) => compareCursors(a.id, b.id));
    markDirty(stream);
  }

  /**
   * What `s` listens to. On a topic stream, a topic the upstream does not carry yet is read from
   * `joinAt` (where the subscriber stood when it asked), once the union is applied.
   */
  function applyFilter(s: Subscription, filter: Filter, joinAt: Position | null): void {
    const stream = s.stream;
    s.all = filter.types.includes('*');
    s.types = new Set(filter.types.filter((t) => t !== '*'));
    for (const t of s.types) stream.connection?.listen(t);
    if (!stream.cursors) return;
    const before = s.topics;
    s.topics = new Set(filter.topics ?? []);
    if (joinAt) {
      for (const topic of s.topics) if (!before?.has(topic) && !stream.union.includes(topic)) (s.joins ??= new Map()).set(topic, { ...joinAt });
    }
    if (unionOf(stream).join('\n') !== stream.union.join('\n')) scheduleUnion(stream);
  }

  return {
    attach(endpoint) {
      const peer: Peer = { endpoint, subs: new Map(), frames: [] };
      peers.add(peer);
      return {
        subscribe({ sub, spec, filter, position, provider }) {
          if (peer.subs.has(sub)) return;
          const key = streamKey(spec);
          let stream = streams.get(key);
          const first = !stream;
          if (!stream) {
            const pos = position.id === '' && position.n === 0 ? { id: '', n: 0, l: lineage() } : { ...position };
            stream = { key, spec, subs: new Set(), pos, cursors: spec.topics, union: [], ring: createCatchUpRing(catchUpChars, pos), batch: [], ahead: new Set(), dirty: false };
            streams.set(key, stream);
          }
          clearTimeout(stream.closeTimer);
          const s: Subscription = { peer, sub, stream, all: false, types: new Set(), provider, pending: [], from: stream.batch.length, skipped: 0 };
          stream.subs.add(s);
          peer.subs.set(sub, s);
          if (first) {
            applyFilter(s, filter, null);
            open(stream);
            return markDirty(stream);
          }
          const fresh = position.id === '' && position.n === 0;
          applyFilter(s, filter, fresh ? stream.pos : position);
          if (stream.status) sendStatus(s, stream.status);
          place(s, position);
        },
        update(sub, filter, position) {
          const s = peer.subs.get(sub);
          if (!s) return;
          const before = s.topics;
          // What was routed under the old filter stays routed under it.
          settleShare(s);
          applyFilter(s, filter, position);
          const carried = [...(s.topics ?? [])].filter((t) => !before?.has(t) && s.stream.union.includes(t));
          if (carried.length > 0) catchUpTopics(s, carried, position);
        },
        unsubscribe(sub, grace) {
          const s = peer.subs.get(sub);
          if (s) release(s, grace);
        },
        detach() {
          for (const s of [...peer.subs.values()]) release(s, true);
          dirtyPeers.delete(peer);
          peer.frames = [];
          peers.delete(peer);
        },
      };
    },
    close() {
      for (const stream of [...streams.values()]) {
        stream.subs.clear();
        end(stream);
      }
      for (const peer of peers) peer.subs.clear();
      peers.clear();
      dirtyPeers.clear();
      dirtyStreams.length = 0;
      clearTimeout(gapTimer);
      flushQueued = false;
      tick?.close();
    },
  };
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
