import type { Connection } from '../engine/connection.js';
import { MAX_DROPPED_TOPICS, TOPICS_DEBOUNCE_MS } from '../protocol/limits.js';
import { isStart, type Filter, type Position } from '../protocol/stream.js';
import type { WireEvent } from '../protocol/types.js';
import { compareCursors, MAX_TOPIC_URL, PRESENCE_EVENT, PRESENCE_PARAM, TOPIC_PARAM } from '../protocol/wire.js';
import type { CatchUpRing } from './catch-up-ring.js';
import { comparePositions } from './compare-positions.js';
import type { Subscription } from './subscription.js';

/** What a topic union needs of its stream. */
export interface UnionStream {
  /** The stream's URL, without topics. */
  readonly url: string;
  readonly subs: ReadonlySet<Subscription>;
  readonly ring: CatchUpRing;
  /** Where the upstream stands. */
  position(): Position;
  /** The upstream, once open. */
  connection(): Connection | undefined;
  /** Opens the upstream (it has its first topic). */
  open(): void;
  /** The upstream goes back to `to`; the subscriptions skip what they have. */
  rewind(to: Position): void;
  /** `s` is owed `events` at the next flush. */
  owe(s: Subscription, events: WireEvent[]): void;
}

/** The topics a topic stream's upstream carries; see {@link createTopicUnion}. */
export interface TopicUnion {
  /**
   * Where the upstream asks for the union: its topics in the query, or in a POST body when the
   * URL would be too long (not possible for the native EventSource, which then sends the long URL);
   * `presence=1` while a subscriber listens to who reads them.
   */
  request(): { url: string; body: string | null };
  /** Takes the subscriptions' topics as they are now, for an upstream about to open; false when there are none. */
  take(): boolean;
  /**
   * `s`'s topics are now `filter`'s. A topic the upstream does not carry yet is read from `joinAt`
   * (where `s` stood when it asked; the start: where the stream stands) once the union is applied;
   * with `catchUp`, one the upstream carries already is caught up from `joinAt`. A topic taken
   * again is read from where `s` had it when it dropped it, if that is later.
   */
  follow(s: Subscription, filter: Filter, joinAt: Position | null, catchUp?: boolean): void;
  /** A subscription with topics left: the union is applied anew within the debounce window. */
  changed(): void;
  /** Topics `s` has not all the events of yet, each with where it has them through ({@link EventsFrame.joining}). */
  joining(s: Subscription): Record<string, Position> | undefined;
  /**
   * A subscriber that comes from another hub at `from` was catching up on `joining` there: those
   * of its topics wait for the upstream to go back for them (true when there are any; then
   * {@link apply} once it is placed, before any of their events reach it live).
   */
  rejoin(s: Subscription, joining: Record<string, Position>, from: Position): boolean;
  /** Applies the union now. */
  apply(): void;
  close(): void;
}

/**
 * The union of a topic stream's subscriptions' topics, which its one upstream carries. A change is
 * applied once per {@link TOPICS_DEBOUNCE_MS} window, with one reconnect: topics no one reads any
 * more are dropped; topics added are read from the earliest point a subscription asked for one
 * (the upstream goes back there and the others skip what they have), so nothing published after a
 * subscription named a topic is missed. With no topic left the upstream keeps what it carries
 * until a topic comes or its last subscriber leaves.
 */
export function createTopicUnion(stream: UnionStream): TopicUnion {
  const { subs } = stream;
  /** What the upstream carries, sorted; and whether it asks who reads them (some subscriber listens to presence). */
  let union: string[] = [];
  let presence = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const named = (): string[] => {
    const topics = new Set<string>();
    for (const s of subs) for (const topic of s.topics ?? []) topics.add(topic);
    return [...topics].sort();
  };
  const asked = () => [...subs].some((s) => s.types.has(PRESENCE_EVENT));
  const same = (a: readonly string[], b: readonly string[]) => a.join('\n') === b.join('\n') && presence === asked();
  const schedule = () => {
    timer ??= setTimeout(apply, TOPICS_DEBOUNCE_MS);
  };

  function apply(): void {
    clearTimeout(timer);
    timer = undefined;
    const next = named();
    const joining = [...subs].some((s) => s.waiting?.size);
    if (next.length === 0 || (!joining && same(next, union))) return;
    const connection = stream.connection();
    if (!connection) return stream.open();
    union = next;
    presence = asked();
    const position = stream.position();
    let from = position;
    for (const s of subs) for (const at of s.waiting?.values() ?? []) if (comparePositions(at, from, true) < 0) from = at;
    const back = from !== position;
    // What the upstream reads again for them is theirs from where they asked: the subscriptions
    // that will stand ahead of it (all, when it goes back) owe their joins to the replay.
    for (const s of subs) {
      if (s.waiting && (back || s.place.kind !== 'live')) for (const [topic, at] of s.waiting) (s.joins ??= new Map()).set(topic, at);
      s.waiting = undefined;
    }
    if (back) return stream.rewind(from);
    connection.restart({ ...topics.request(), lastEventId: position.id });
  }

  /**
   * Topics `s` added that the upstream carries, each from where it has them: from the hub's
   * memory; when it does not reach back so far, the upstream goes back for them at once, before
   * another event of theirs reaches `s` live (it would come again in the replay, and ahead of the
   * older ones).
   */
  function catchUp(s: Subscription, added: Map<string, Position>): void {
    const missed = stream.ring.after([...added.values()].reduce(earlier), true);
    if (!missed) {
      for (const [topic, at] of added) (s.waiting ??= new Map()).set(topic, { ...at });
      return apply();
    }
    const owed = missed.filter((event) => {
      const at = added.get(event.topic!);
      return at !== undefined && compareCursors(event.id, at.id) > 0 && (s.all || s.types.has(event.type));
    });
    if (owed.length > 0) stream.owe(s, owed);
    // Standing ahead of a replay, it gets the rest of theirs as the upstream passes them.
    if (s.place.kind === 'live') return;
    const position = stream.position();
    for (const [topic, at] of added) (s.joins ??= new Map()).set(topic, { ...later(at, position) });
  }

  /**
   * Where `s` has `topic`'s events up to: where it asked from, or where the stream stood when it
   * dropped the topic, if later (what the stream sent it then may still be on its way to the tab).
   */
  function hasUpTo(s: Subscription, topic: string, asked: Position): Position {
    const dropped = s.dropped?.get(topic);
    s.dropped?.delete(topic);
    return dropped ? later(dropped, asked) : asked;
  }

  /** Remembers where `s` stood against the stream as it drops `topic`. */
  function drop(s: Subscription, topic: string): void {
    s.waiting?.delete(topic);
    s.joins?.delete(topic);
    const position = stream.position();
    // Ahead of the stream, it has what it had up to where it stands.
    (s.dropped ??= new Map()).set(topic, { ...(s.place.kind === 'ahead' ? later(s.place.until, position) : position) });
    if (s.dropped.size > MAX_DROPPED_TOPICS) s.dropped.delete(s.dropped.keys().next().value!);
  }

  const topics: TopicUnion = {
    request() {
      const base = new URL(stream.url);
      if (presence) base.searchParams.set(PRESENCE_PARAM, '1');
      const url = new URL(base);
      for (const topic of union) url.searchParams.append(TOPIC_PARAM, topic);
      const viaBody = url.href.length > MAX_TOPIC_URL && stream.connection()?.status.transport !== 'eventsource';
      return viaBody ? { url: base.href, body: JSON.stringify({ topics: union }) } : { url: url.href, body: null };
    },
    take() {
      union = named();
      presence = asked();
      for (const s of subs) s.waiting = s.joins = undefined;
      return union.length > 0;
    },
    follow(s, filter, asked, withCatchUp) {
      const before = s.topics;
      s.topics = new Set(filter.topics ?? []);
      for (const topic of before ?? []) if (!s.topics.has(topic)) drop(s, topic);
      // A tab that has heard no position yet (its first frame is on its way) stands where the
      // stream does; one that has, has read past the drops before its position.
      const started = asked !== null && isStart(asked);
      const joinAt = started ? { ...stream.position() } : asked;
      if (joinAt && !started) for (const [topic, at] of s.dropped ?? []) if (comparePositions(at, joinAt, true) <= 0) s.dropped!.delete(topic);
      const carried = new Map<string, Position>();
      for (const topic of s.topics) {
        if (before?.has(topic) || !joinAt) continue;
        const from = hasUpTo(s, topic, joinAt);
        if (!union.includes(topic)) (s.waiting ??= new Map()).set(topic, { ...from });
        else carried.set(topic, from);
      }
      if (!same(named(), union)) schedule();
      if (withCatchUp && carried.size > 0) catchUp(s, carried);
    },
    changed: schedule,
    joining(s) {
      if (!s.waiting?.size && !s.joins?.size) return undefined;
      const topics = new Map<string, Position>();
      for (const map of [s.waiting, s.joins]) {
        for (const [topic, at] of map ?? []) {
          const other = topics.get(topic);
          topics.set(topic, other ? earlier(other, at) : at);
        }
      }
      // Own properties, whatever the topic's name: a plain object's `constructor` or `__proto__`
      // would read as there (and not clone) or set its prototype.
      return Object.fromEntries(topics);
    },
    rejoin(s, joining, from) {
      let behind = false;
      for (const [topic, at] of Object.entries(joining)) {
        if (!s.topics?.has(topic) || !(comparePositions(at, from, true) < 0)) continue;
        (s.waiting ??= new Map()).set(topic, { ...at });
        behind = true;
      }
      return behind;
    },
    apply,
    close: () => clearTimeout(timer),
  };
  return topics;
}

/** The later of two positions of a topic stream (`b` when they are at the same place). */
const later = (a: Position, b: Position): Position => (comparePositions(a, b, true) > 0 ? a : b);
/** The earlier of two positions of a topic stream. */
const earlier = (a: Position, b: Position): Position => (later(a, b) === a ? b : a);

/** Merges `events` into what `s` is owed, in log order (the cursors order them). */
export function oweInOrder(s: Subscription, events: WireEvent[]): void {
  s.owed = [...s.owed, ...events].sort((a, b) => compareCursors(a.id, b.id));
}
