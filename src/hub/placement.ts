import { isStart, type Position } from '../protocol/stream.js';
import type { StatusError, WireEvent } from '../protocol/types.js';
import type { CatchUpRing } from './catch-up-ring.js';
import { comparePositions } from './compare-positions.js';
import { matches, type Subscription } from './subscription.js';

/** What placing subscriptions needs of their stream. */
export interface PlacementStream {
  readonly topicStream: boolean;
  /** Events a subscriber placed by an id waits for it before it is told of a gap. */
  readonly placeByIdEvents: number;
  readonly ring: CatchUpRing;
  /** Subscriptions not `live`: the only ones routed event by event. */
  readonly ahead: Set<Subscription>;
  /** Where the upstream stands. */
  position(): Position;
  /** Events routed since the last flush. */
  batchLength(): number;
  /** Something is owed or to tell: a flush must come. */
  dirty(): void;
  report(s: Subscription, error: StatusError): void;
  /** The upstream goes back to `to`; `behind` is the subscription that needs it. */
  rewind(to: Position, behind: Subscription): void;
}

/**
 * Places a subscription that arrives at `from` against its stream (a new tab, a tab resubscribing
 * after a worker restart or a leader takeover, a page back from the back/forward cache): at the
 * same place it is live; ahead, it skips what it already has; a little behind, it catches up from
 * the recent events the hub keeps; further behind, the upstream goes back to its position and the
 * others skip what they already have.
 */
export function place(stream: PlacementStream, s: Subscription, from: Position): void {
  const position = stream.position();
  if (isStart(from)) {
    // A new subscriber starts where the stream stands; tell it where that is.
    s.told = undefined;
    return stream.dirty();
  }
  const order = comparePositions(from, position, stream.topicStream);
  if (order === 0) {
    s.told = { ...position };
    return;
  }
  if (order > 0) return aheadUntil(stream, s, from);
  const missed = order < 0 ? stream.ring.after(from, stream.topicStream) : stream.ring.afterId(from.id)?.events;
  if (!missed) return stream.rewind(from, s);
  // Not those of topics the upstream will go back for: they come with that replay.
  for (const event of missed) if (matches(s, event) && !(event.topic !== undefined && s.waiting?.has(event.topic))) s.owed.push(event);
  s.told = undefined;
  stream.dirty();
}

/** `s` has every event up to `until`: it skips them as the upstream passes them. */
export function aheadUntil(stream: PlacementStream, s: Subscription, until: Position): void {
  s.place = { kind: 'ahead', until };
  stream.ahead.add(s);
}

/**
 * The upstream goes back from `from` to `to`: every subscription but `behind` skips what it
 * already has, up to `from` (a live one) or its own place (one ahead already), or, when that
 * cannot be ordered against `to` (another lineage), through that place's id.
 */
export function skipBack(stream: PlacementStream, subs: Iterable<Subscription>, from: Position, to: Position, behind?: Subscription): void {
  for (const s of subs) {
    const place = s.place;
    if (s === behind || place.kind === 'ahead-of-id') continue;
    const has = place.kind === 'live' ? from : place.until;
    if (!Number.isNaN(comparePositions(to, has, stream.topicStream))) {
      if (place.kind === 'live') aheadUntil(stream, s, { ...from });
    } else if (has.id !== '') {
      s.place = { kind: 'ahead-of-id', id: has.id, skipped: 0 };
      stream.ahead.add(s);
    }
  }
}

/** The stream routed `event` while `s` stood ahead of it: owed, had, or the point where `s` goes live. */
export function passAhead(stream: PlacementStream, s: Subscription, event: WireEvent): void {
  const place = s.place;
  const routed = stream.batchLength();
  if (place.kind === 'ahead') {
    const position = stream.position();
    if (comparePositions(position, place.until, stream.topicStream) <= 0) {
      // It has this one, unless it is of a topic it joined while the upstream went back for it;
      // then the join moves past it, so that going back again does not owe it twice.
      const join = event.topic === undefined ? undefined : s.joins?.get(event.topic);
      if (join && comparePositions(position, join, true) > 0) {
        if (matches(s, event)) s.owed.push(event);
        s.joins!.set(event.topic!, { ...position });
      }
      return;
    }
    s.joins = undefined;
    return goLive(stream, s, routed - 1);
  }
  if (place.kind !== 'ahead-of-id') return;
  if (event.id === place.id) return goLive(stream, s, routed);
  if (++place.skipped > stream.placeByIdEvents) {
    // Its id never came: the replay did not hold it. Say so rather than drop on.
    stream.report(s, { code: 'gap', message: `The stream did not pass position ${place.id} again; events may be missing or repeated` });
    goLive(stream, s, routed - 1);
  }
}

/** From batch index `from` on, `s` shares the batch. */
function goLive(stream: PlacementStream, s: Subscription, from: number): void {
  stream.ahead.delete(s);
  s.place = { kind: 'live', from };
}
