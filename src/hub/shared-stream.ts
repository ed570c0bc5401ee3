import type { Connection } from '../engine/connection.js';
import type { UpstreamOptions } from './hub.js';
import { isStart, type ConnectionStatus, type Filter, type Position, type StreamSpec } from '../protocol/stream.js';
import type { EventsFrame, SubscribeMessage } from '../protocol/tab-hub-messages.js';
import type { StatusError, WireEvent } from '../protocol/types.js';
import { CONTROL_PREFIX, DENIED_EVENT, PRESENCE_EVENT, RESET_EVENT, type ResetNotice } from '../protocol/wire.js';
import { askHeaders } from './ask-headers.js';
import { createCatchUpRing } from './catch-up-ring.js';
import { comparePositions } from './compare-positions.js';
import { createLatestEvents } from './latest-events.js';
import { createOneTabRouter } from './one-tab-router.js';
import { aheadUntil, passAhead, place, skipBack, type PlacementStream } from './placement.js';
import { matches, setTypes, shareOf, type TabSink, type Subscription } from './subscription.js';
import { createTopicUnion, oweInOrder } from './topic-union.js';

/** What a stream needs from its hub. */
export interface StreamHost {
  connect(options: UpstreamOptions): Connection;
  /** The stream has something for its subscribers: collect it at the next flush. */
  dirty(stream: SharedStream): void;
  /** A frame went into a tab's queue: a flush must come. */
  flushSoon(): void;
  /** The stream closed for good: a later subscriber opens a fresh one. */
  gone(stream: SharedStream): void;
  graceMs: number;
  catchUpChars: number;
  placeByIdEvents: number;
  latestChars: number;
  staggerMs: number;
}

/** One upstream and its subscribers; see {@link createSharedStream}. */
export interface SharedStream {
  readonly key: string;
  /** Subscribes a subscriber of tab `tab`, from where it stands. */
  add(tab: TabSink, request: SubscribeMessage): Subscription;
  /** A new filter for `s`; `position` is where it stood when it changed. */
  update(s: Subscription, filter: Filter, position: Position): void;
  /** `s` leaves; with `grace` the upstream outlives its last subscriber for a while. */
  remove(s: Subscription, grace: boolean): void;
  /** `s` claims its one-events through `seq` (it is told go in its next frame). */
  claim(s: Subscription, seq: number): void;
  /** `s` ran its `tabs: 'one'` listeners through its one-event `seq`. */
  ran(s: Subscription, seq: number): void;
  /** A tab of the stream became visible or hidden, or was focused: the subscriptions hear the new count. */
  tabsChanged(): void;
  /** Moves what the subscriptions got since the last flush into their tabs' frames. */
  collect(): void;
  /** Closes the upstream at once; the subscriptions are dropped without a word. */
  close(): void;
}

/**
 * A stream as a hub shares it: one upstream, its position, and the subscriptions that read it,
 * **exactly once and in order**, wherever each stands.
 *
 * The position belongs to the upstream, and every flush tells each subscription where the stream
 * stands, also when none of its types went by; the tab keeps that position and resubscribes from
 * it. A subscription that arrives (a new tab, a tab resubscribing after a worker restart or a
 * leader takeover, a page back from the back/forward cache) is placed against the stream: at the
 * same place it is live; ahead, it skips what it already has; a little behind, it catches up from
 * the recent events the hub keeps; further behind, the upstream goes back to its position and
 * the others skip what they already have.
 *
 * On a topic stream (the server protocol in the README) the upstream carries the union of the
 * subscriptions' topics, ids are protocol cursors that order themselves, and the first data line
 * of each event is its topic.
 */
export function createSharedStream(key: string, spec: StreamSpec, start: Position, host: StreamHost): SharedStream {
  const topicStream = spec.topics;
  const subs = new Set<Subscription>();
  /** Subscriptions not `live`: the only ones routed event by event. */
  const ahead = new Set<Subscription>();
  /** Where the upstream stands. Changed in place, copied when told. */
  let position: Position = { ...start };
  const ring = createCatchUpRing(host.catchUpChars, position);
  const latest = createLatestEvents(host.latestChars);
  const one = createOneTabRouter(topicStream, () => markDirty());
  const placing: PlacementStream = {
    topicStream,
    placeByIdEvents: host.placeByIdEvents,
    ring,
    ahead,
    position: () => position,
    batchLength: () => batch.length,
    dirty: () => markDirty(),
    report: (s, error) => report(s, error),
    rewind,
  };
  const topics = createTopicUnion({
    url: spec.url,
    subs,
    ring,
    position: () => position,
    connection: () => connection,
    open,
    rewind: (to) => rewind(to),
    owe(s, events) {
      oweInOrder(s, events);
      markDirty();
    },
  });
  /** Events routed since the last flush: each subscription's share is taken at the flush. */
  let batch: WireEvent[] = [];
  let dirty = false;
  /** Set once the upstream opened (a topic stream opens with its first topic). */
  let connection: Connection | undefined;
  let status: ConnectionStatus | undefined;
  /** The subscription whose provider answered last: the likeliest to answer again. */
  let answered: Subscription | undefined;
  /** Set while the last subscriber left with the grace period. */
  let closeTimer: ReturnType<typeof setTimeout> | undefined;

  const markDirty = () => {
    if (dirty) return;
    dirty = true;
    host.dirty(stream);
  };

  const sendStatus = (s: Subscription, next: ConnectionStatus) => {
    s.tab.push({ sub: s.sub, status: next });
    host.flushSoon();
  };

  const report = (s: Subscription, error: StatusError) => {
    if (status) sendStatus(s, { ...status, reason: 'reported', error });
  };

  // ---- The per-event path: one position update, one ring write, one batch push; only
  // subscriptions ahead of the stream are looked at event by event.
  function route(event: WireEvent): void {
    const type = event.type;
    if (type.startsWith(CONTROL_PREFIX)) return control(event);
    const before = one.active ? { ...position } : undefined;
    position.id = event.id;
    position.count++;
    if (topicStream) {
      const data = event.data;
      const nl = data.indexOf('\n');
      event.topic = nl < 0 ? data : data.slice(0, nl);
      event.data = nl < 0 ? '' : data.slice(nl + 1);
    }
    ring.push(event, position.count);
    batch.push(event);
    latest.put(event);
    if (before) one.route(event, before, position);
    for (const s of ahead) passAhead(placing, s, event);
    markDirty();
  }

  /** A control event of the ssemux server (the server protocol in the README): never handed to listeners. */
  function control(event: WireEvent): void {
    if (event.type === RESET_EVENT) {
      // The server could not replay from where the stream stood: say so to every subscriber.
      const notice = parseJson<ResetNotice>(event.data);
      ring.clear(position);
      latest.clear();
      markDirty();
      for (const s of subs) report(s, { code: 'gap', message: `The server could not replay from ${notice?.from ?? 'where the stream stood'} (${notice?.reason ?? 'reset'}): events may be missing` });
    } else if (event.type === DENIED_EVENT) {
      const denied = new Set(parseJson<string[]>(event.data) ?? []);
      for (const s of subs) {
        const mine = [...(s.topics ?? [])].filter((t) => denied.has(t));
        if (mine.length > 0) report(s, { code: 'forbidden', status: 403, message: `The server does not let this client read ${mine.join(', ')}` });
      }
    } else if (event.type === PRESENCE_EVENT && topicStream) {
      // Who reads a topic: no position of the log, to the subscribers that listen to it by name.
      const nl = event.data.indexOf('\n');
      const presence: WireEvent = { type: event.type, id: position.id, topic: event.data.slice(0, nl < 0 ? undefined : nl), data: nl < 0 ? '' : event.data.slice(nl + 1) };
      latest.put(presence);
      batch.push(presence);
      markDirty();
    }
  }

  function collect(): void {
    dirty = false;
    const routed = batch;
    batch = [];
    const shares = new Map<string, WireEvent[]>();
    const oneDone = one.active ? one.doneAt(position) : undefined;
    let told: Position | undefined;
    for (const s of subs) {
      const place = s.place;
      // A subscription ahead of the stream stands where it was until the stream passes it.
      if (place.kind !== 'live') continue;
      let events = shareOf(s, routed, place.from, shares, topicStream);
      place.from = 0;
      if (s.owed.length > 0) {
        events = s.owed.concat(events);
        s.owed = [];
      }
      const frame: EventsFrame = { sub: s.sub, events, at: (told ??= { ...position }) };
      let news = events.length > 0 || !s.told || !samePosition(s.told, position);
      if (s.latestWanted) {
        frame.latest = latest.of(s.latestWanted, s.topics);
        s.latestWanted = undefined;
        news ||= frame.latest.length > 0;
      }
      if (topicStream && (s.waiting || s.joins || s.toldJoining)) {
        const joining = topics.joining(s);
        const key = joining && JSON.stringify(joining);
        if (joining) frame.joining = joining;
        if (key !== s.toldJoining) news = true;
        s.toldJoining = key;
      }
      if (s.one) {
        const out = s.one.out;
        if (out.length > 0) {
          frame.one = out;
          frame.oneSeq = s.one.nextSeq - out.length;
          s.one.out = [];
          news = true;
        }
        if (s.one.go !== undefined) {
          frame.oneGo = s.one.go;
          s.one.go = undefined;
          news = true;
        }
        frame.oneDone = oneDone!;
        if (!s.toldOneDone || !samePosition(s.toldOneDone, oneDone!)) news = true;
        s.toldOneDone = oneDone;
      }
      if (!news) continue;
      s.told = told;
      s.tab.push(frame);
    }
  }

  /** Tells every subscription how many tabs (and visible ones) the stream has, when that changed. */
  function tellTabs(): void {
    const tabs = new Set<TabSink>();
    let visible = 0;
    for (const s of subs) if (!tabs.has(s.tab) && tabs.add(s.tab) && s.tab.visible) visible++;
    const count = { count: tabs.size, visible };
    const key = `${tabs.size}/${visible}`;
    for (const s of subs) {
      if (s.toldTabs === key) continue;
      s.toldTabs = key;
      s.tab.push({ sub: s.sub, tabs: count });
    }
    host.flushSoon();
  }

  /** Takes `s`'s share of the batch so far into what it is owed (its filter is about to change). */
  function settleShare(s: Subscription): void {
    const place = s.place;
    if (place.kind !== 'live') return;
    for (let i = place.from; i < batch.length; i++) if (matches(s, batch[i]!)) s.owed.push(batch[i]!);
    place.from = batch.length;
  }

  /**
   * The upstream goes back to `to` (a subscription stands further behind than the hub remembers,
   * or topics were added that must be read from where they were asked for), and every other
   * subscription skips what it already has.
   */
  function rewind(to: Position, behind?: Subscription): void {
    collect();
    skipBack(placing, subs, position, to, behind);
    position = { ...to };
    ring.clear(position);
    one.rewound(position);
    if (behind) behind.told = undefined;
    markDirty();
    connection?.restart({ ...(topicStream && topics.request()), lastEventId: to.id });
  }

  /**
   * What `s` listens to. On a topic stream, a topic the upstream does not carry yet is read from
   * `joinAt` (where the subscription stood when it asked), once the union is applied.
   */
  function applyFilter(s: Subscription, filter: Filter, joinAt: Position | null, catchUp?: boolean): void {
    setTypes(s, filter);
    for (const t of s.types) connection?.listen(t);
    one.listen(s, filter.one, position);
    // Who reads a topic is a state, not a history: a newcomer may always ask for the last one.
    if (s.types.has(PRESENCE_EVENT)) latest.track(PRESENCE_EVENT);
    // The tab lists the types whose listeners wait for their last event: they get it with the next frame.
    const asked = filter.latest;
    if (asked?.length) {
      for (const t of asked) latest.track(t);
      (s.latestWanted ??= []).push(...asked);
      markDirty();
    }
    if (topicStream) topics.follow(s, filter, joinAt, catchUp);
  }

  // ---- The upstream.

  /** Opens the upstream from where the stream stands; a topic stream with no topic yet waits for one. */
  function open(): void {
    if (topicStream && !topics.take()) return;
    const request = topicStream ? topics.request() : undefined;
    ring.clear(position);
    const types = new Set<string>([RESET_EVENT, DENIED_EVENT]);
    for (const s of subs) for (const t of s.types) types.add(t);
    connection = host.connect({
      // The spec's fields are the connection's options (and a few it does not read).
      ...spec,
      url: request?.url ?? spec.url,
      ...(request?.body && { method: 'POST' as const, body: request.body }),
      headers: headers,
      customHeaders: [...subs].some((s) => s.provider) || Object.keys(spec.headers ?? {}).length > 0,
      lastEventId: position.id,
      eventTypes: types,
      prelude: topicStream,
      onEvent: route,
      onId(id) {
        // An id-only block moves the stream without an event.
        if (position.id === id) return;
        position.id = id;
        ring.moved(position);
        markDirty();
      },
      onStatus(next) {
        status = next;
        // A stream that closed for good is forgotten, so a later subscriber opens a fresh one.
        if (next.state === 'closed') host.gone(stream);
        // Events routed before the change reach the tabs before it.
        collect();
        for (const s of subs) sendStatus(s, next);
      },
    });
  }

  /** Headers for an attempt: from the subscribers' providers, the one that answered last first, else the fixed ones. */
  async function headers() {
    const candidates = [...subs].filter((s) => s.provider).sort((a, b) => +(b === answered) - +(a === answered));
    if (candidates.length === 0) return spec.headers ?? {};
    const [answer, from] = await askHeaders(
      candidates.map((s) => () => s.tab.headers(s.sub)),
      spec.headersTimeoutMs,
      host.staggerMs,
    );
    answered = candidates[from];
    return answer;
  }

  function close(): void {
    clearTimeout(closeTimer);
    topics.close();
    one.close();
    host.gone(stream);
    connection?.close();
  }

  const stream: SharedStream = {
    key,
    add(tab, { sub, filter, position: from, provider, oneDone, oneRan, joining }) {
      clearTimeout(closeTimer);
      const first = subs.size === 0 && !connection;
      const s: Subscription = { tab, sub, all: false, types: new Set(), provider, place: { kind: 'live', from: batch.length }, owed: [] };
      subs.add(s);
      // Where the stream's one-events are done, as the subscriber heard: none before it is handed
      // out again. Without an id (the stream's start) there is nowhere to go back to.
      const oneBehind = oneDone?.id && comparePositions(oneDone, from, topicStream) < 0;
      one.learn(oneDone, oneRan);
      // Topics it was catching up on at another hub: the upstream goes back for them once it is placed.
      const rejoin = () => topicStream && joining !== undefined && topics.rejoin(s, joining, from);
      let rejoined = false;
      if (first) {
        applyFilter(s, filter, null);
        if (oneBehind) {
          // A new hub: the upstream goes back to where the one-events were done, for those
          // handed out and not run, and the subscriber skips what it already has.
          position = { ...oneDone };
          aheadUntil(placing, s, from);
        }
        open();
        markDirty();
        rejoined = rejoin();
      } else {
        applyFilter(s, filter, isStart(from) ? position : from);
        // Before it is placed: what it catches up on from the hub's memory leaves them out.
        rejoined = rejoin();
        if (status) sendStatus(s, status);
        if (s.one && oneDone?.id && !one.examined(oneDone) && comparePositions(oneDone, position, topicStream) < 0) {
          // Events after where it heard the one-events were done were routed here before any
          // one-listener looked at them: the upstream goes back for them.
          rewind(oneDone, s);
          aheadUntil(placing, s, from);
        } else {
          place(placing, s, from);
        }
      }
      if (rejoined) topics.apply();
      tellTabs();
      return s;
    },
    update(s, filter, from) {
      // What was routed under the old filter stays routed under it.
      settleShare(s);
      applyFilter(s, filter, from, true);
    },
    remove(s, grace) {
      subs.delete(s);
      ahead.delete(s);
      one.left(s, grace);
      if (answered === s) answered = undefined;
      if (subs.size > 0) {
        if (s.topics?.size) topics.changed();
        tellTabs();
        markDirty();
        return;
      }
      if (grace && host.graceMs > 0) {
        // A reload leaves and comes back within the grace period: keep the upstream for it.
        clearTimeout(closeTimer);
        closeTimer = setTimeout(close, host.graceMs);
      } else {
        close();
      }
    },
    claim(s, seq) {
      one.claim(s, seq);
      markDirty();
    },
    ran(s, seq) {
      one.ran(s, seq);
      markDirty();
    },
    tabsChanged: tellTabs,
    collect,
    close() {
      subs.clear();
      ahead.clear();
      close();
    },
  };
  return stream;
}

function samePosition(a: Position, b: Position): boolean {
  return a.count === b.count && a.id === b.id && a.lineage === b.lineage;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
