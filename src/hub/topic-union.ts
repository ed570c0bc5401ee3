import type { Connection } from '../engine/connection.js';
import { TOPICS_DEBOUNCE_MS } from '../protocol/limits.js';
import type { Filter, Position } from '../protocol/stream.js';
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
   * (where `s` stood when it asked) once the union is applied; with `catchUp`, one the upstream
   * carries already is caught up from `joinAt` out of the hub's memory.
   */
  follow(s: Subscription, filter: Filter, joinAt: Position | null, catchUp?: boolean): void;
  /** A subscription with topics left: the union is applied anew within the debounce window. */
  changed(): void;
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
    timer = undefined;
    const next = named();
    const joining = [...subs].some((s) => s.joins?.size);
    if (next.length === 0 || (!joining && same(next, union))) return;
    const connection = stream.connection();
    if (!connection) return stream.open();
    union = next;
    presence = asked();
    const position = stream.position();
    let from = position;
    for (const s of subs) for (const at of s.joins?.values() ?? []) if (comparePositions(at, from, true) < 0) from = at;
    if (from !== position) return stream.rewind(from);
    for (const s of subs) s.joins = undefined;
    connection.restart({ ...topics.request(), lastEventId: position.id });
  }

  /** Topics `s` added that the upstream carries: from the hub's memory, or as new topics when it does not reach back so far. */
  function catchUp(s: Subscription, added: string[], from: Position): void {
    const missed = stream.ring.after(from, true);
    if (!missed) {
      for (const topic of added) (s.joins ??= new Map()).set(topic, { ...from });
      return schedule();
    }
    const owed = missed.filter((event) => added.includes(event.topic!) && (s.all || s.types.has(event.type)));
    if (owed.length > 0) stream.owe(s, owed);
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
      for (const s of subs) s.joins = undefined;
      return union.length > 0;
    },
    follow(s, filter, joinAt, withCatchUp) {
      const before = s.topics;
      s.topics = new Set(filter.topics ?? []);
      const added = [...s.topics].filter((topic) => !before?.has(topic));
      if (joinAt) for (const topic of added) if (!union.includes(topic)) (s.joins ??= new Map()).set(topic, { ...joinAt });
      if (!same(named(), union)) schedule();
      const carried = added.filter((topic) => union.includes(topic));
      if (withCatchUp && joinAt && carried.length > 0) catchUp(s, carried, joinAt);
    },
    changed: schedule,
    close: () => clearTimeout(timer),
  };
  return topics;
}

/** Merges `events` into what `s` is owed, in log order (the cursors order them). */
export function oweInOrder(s: Subscription, events: WireEvent[]): void {
  s.owed = [...s.owed, ...events].sort((a, b) => compareCursors(a.id, b.id));
}
