import { ONE_TAKEOVER_HOLD_MS, ORPHAN_ONE_EVENTS } from '../protocol/limits.js';
import type { Position } from '../protocol/stream.js';
import type { WireEvent } from '../protocol/types.js';
import { comparePositions } from './compare-positions.js';
import type { Subscription } from './subscription.js';

/** An event handed to one subscriber's `tabs: 'one'` listeners, until it says it ran them. */
export interface OneEvent {
  /** Its number for that subscriber: it answers with the number of the last it ran. */
  seq: number;
  event: WireEvent;
  /** Where the stream stood just before it: a hub that must hand it out again resumes from here. */
  before: Position;
}

/** A subscription's part in `tabs: 'one'` delivery. */
export interface OneListeners {
  /** The types it runs `tabs: 'one'` listeners for (`'*'`: every type). */
  types: ReadonlySet<string>;
  /** Handed to it and not run yet, oldest first. */
  pending: OneEvent[];
  /** The number of the next event handed to it. */
  nextSeq: number;
  /** Handed to it since its last frame. */
  out: WireEvent[];
  /** Through which number it may run them (it claimed them, and the hub has not died since); to tell it in its next frame. */
  go?: number;
}

/** Hands each event of a `tabs: 'one'` type to one subscriber; see {@link createOneTabRouter}. */
export interface OneTabRouter {
  /** True while some subscriber has `tabs: 'one'` listeners: only then does routing look at events. */
  readonly active: boolean;
  /** Hot path: the stream routed `event`, moving from `before` to `at`. */
  route(event: WireEvent, before: Position, at: Position): void;
  /** `s` now runs `tabs: 'one'` listeners for `types` (none: it stops); the stream stands at `at`. */
  listen(s: Subscription, types: readonly string[] | undefined, at: Position): void;
  /** `s` claims its one-events through number `seq`: it gets the go for those still handed to it. */
  claim(s: Subscription, seq: number): void;
  /** `s` ran its one-events through number `seq`. */
  ran(s: Subscription, seq: number): void;
  /**
   * `s` left: what it was handed and did not run goes to another subscriber. `pageLeft`: its page
   * left (a reload, a navigation), not its listeners: events it would have taken wait for the next
   * subscriber that listens, while none does.
   */
  left(s: Subscription, pageLeft?: boolean): void;
  /**
   * A subscriber says the stream's one-events are done through `done`, and that it ran those of
   * `ran` (ids) since: none of them is handed out again.
   */
  learn(done: Position | undefined, ran: readonly string[] | undefined): void;
  /** True when every event after `done` that the stream routed was looked at for one-listeners. */
  examined(done: Position): boolean;
  /** The upstream went back to `to`: every event after it is routed again, and looked at. */
  rewound(to: Position): void;
  /** Through where every one-event is done, the stream standing at `at`. */
  doneAt(at: Position): Position;
  /** Stops its timer. */
  close(): void;
}

/**
 * `tabs: 'one'` delivery for one stream: each event of a type some subscriber has `tabs: 'one'`
 * listeners for is handed to exactly one of those subscribers, the one in a visible tab that had
 * focus last (a subscriber placed in the stream first). It stays handed until that subscriber
 * says it ran it; a subscriber that leaves first hands what it did not run to another, or, with
 * none left, to the next that comes (at most {@link ORPHAN_ONE_EVENTS}). The point through which
 * every one-event is done travels to the tabs with their positions, so that a new hub (after a
 * worker restart or a leader takeover) hands out only what is not done; it hands out nothing for
 * {@link ONE_TAKEOVER_HOLD_MS}, while the tabs of the dead hub come back and say what they ran.
 * `handed` is called when events held so are handed out.
 */
export function createOneTabRouter(topicStream: boolean, handed: () => void): OneTabRouter {
  const listening = new Set<Subscription>();
  /** Through where one-events were handed out: a replay of them is not handed out twice. */
  let assigned: Position | undefined;
  /** Where the stream stood when one-listeners last came (none before): every event after it was looked at. */
  let examinedFrom: Position | undefined;
  /** Handed to a subscriber that left, with no other to take them yet. */
  const orphans: { event: WireEvent; before: Position }[] = [];
  /** Ids of one-events a subscriber ran under a hub before this one, that this one has not passed yet. */
  const ranBefore = new Set<string>();
  /** Routed while this hub, taking over from a dead one, waits for the tabs to say what they ran (see {@link hold}). */
  let held: { event: WireEvent; before: Position }[] | undefined;
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  let heldOnce = false;
  /**
   * The types (and topics) of subscribers whose page left, kept while the stream lives: an event
   * of one with no subscriber to take it waits among the orphans instead of being lost.
   */
  const unheardTypes = new Set<string>();
  /** Their topics, on a topic stream. */
  const unheardTopics = new Set<string>();
  const unheard = (event: WireEvent) =>
    (unheardTypes.has(event.type) || unheardTypes.has('*')) && (event.topic === undefined || unheardTopics.has(event.topic));

  const wants = (s: Subscription, event: WireEvent) =>
    (s.one!.types.has(event.type) || s.one!.types.has('*')) && (event.topic === undefined || s.topics!.has(event.topic));

  /** The subscriber that takes `event`: placed in the stream, in a visible tab, focused last. */
  function owner(event: WireEvent, except?: Subscription): Subscription | undefined {
    let best: Subscription | undefined;
    for (const s of listening) {
      if (s === except || !wants(s, event)) continue;
      if (!best || fitter(s, best)) best = s;
    }
    return best;
  }

  function hand(s: Subscription, event: WireEvent, before: Position): void {
    const one = s.one!;
    one.pending.push({ seq: one.nextSeq++, event, before });
    one.out.push(event);
  }

  function adopt(orphansOf: { event: WireEvent; before: Position }[], except?: Subscription): void {
    for (const { event, before } of orphansOf) {
      const s = owner(event, except);
      if (s) hand(s, event, before);
      else if (orphans.push({ event, before }) > ORPHAN_ONE_EVENTS) orphans.shift();
    }
  }

  /** Once per hub, from the first tab that comes from a dead one: one-events wait while the others come back. */
  function hold(): void {
    if (heldOnce) return;
    heldOnce = true;
    held = [];
    holdTimer = setTimeout(release, ONE_TAKEOVER_HOLD_MS);
  }

  /** Hands out what was held, but what a tab ran under the dead hub. */
  function release(): void {
    clearTimeout(holdTimer);
    const waiting = held ?? [];
    held = undefined;
    adopt(waiting.filter(({ event }) => !ranBefore.delete(event.id)));
    if (waiting.length) handed();
  }

  return {
    get active() {
      return listening.size > 0 || unheardTypes.size > 0;
    },
    route(event, before, at) {
      const s = owner(event);
      if ((!s && !unheard(event)) || (assigned && comparePositions(at, assigned, topicStream) <= 0)) return;
      assigned = { ...at };
      // A stream read from now has no id before its first event: nothing can go back there, so the
      // one-events are done no earlier than that event (a hub that dies with it not run loses it).
      const from = before.id ? before : assigned;
      if (held) {
        if (held.push({ event, before: from }) >= ORPHAN_ONE_EVENTS) release();
      } else if (ranBefore.delete(event.id)) {
        // Ran under the hub before this one.
      } else if (s) {
        hand(s, event, from);
      } else if (orphans.push({ event, before: from }) > ORPHAN_ONE_EVENTS) {
        orphans.shift();
      }
    },
    listen(s, types, at) {
      if (!types?.length) {
        if (s.one) this.left(s);
        return;
      }
      // (While events of a page that left were kept, every event since was looked at.)
      if (listening.size === 0 && unheardTypes.size === 0) examinedFrom = { ...at };
      s.one ??= { types: new Set(), pending: [], nextSeq: 1, out: [] };
      s.one.types = new Set(types);
      listening.add(s);
      // Handed to it for types (or topics) it no longer listens to: it would run nothing for them.
      const unwanted = s.one.pending.filter(({ event }) => !wants(s, event));
      if (unwanted.length) {
        s.one.pending = s.one.pending.filter(({ event }) => wants(s, event));
        adopt(unwanted, s);
        handed();
      }
      if (orphans.length) adopt(orphans.splice(0));
    },
    claim(s, seq) {
      const first = s.one?.pending[0];
      // What it claims that is still handed to it: a claim for what went to another tab since is not a go.
      if (first && first.seq <= seq) s.one!.go = Math.min(seq, s.one!.nextSeq - 1);
    },
    ran(s, seq) {
      const pending = s.one?.pending;
      while (pending?.length && pending[0]!.seq <= seq) pending.shift();
    },
    left(s, pageLeft) {
      const one = s.one;
      if (!one) return;
      listening.delete(s);
      s.one = undefined;
      if (pageLeft) {
        for (const type of one.types) unheardTypes.add(type);
        for (const topic of s.topics ?? []) unheardTopics.add(topic);
      }
      adopt(one.pending, s);
    },
    learn(done, ran) {
      if (done) hold();
      if (done && (!assigned || comparePositions(done, assigned, topicStream) > 0)) assigned = { ...done };
      for (const id of ran ?? []) if (ranBefore.add(id).size > ORPHAN_ONE_EVENTS) ranBefore.delete(ranBefore.values().next().value!);
    },
    rewound(to) {
      if (listening.size > 0) examinedFrom = { ...to };
    },
    examined(done) {
      return !!examinedFrom && comparePositions(done, examinedFrom, topicStream) >= 0;
    },
    doneAt(at) {
      let done: Position | undefined;
      for (const s of listening) {
        const first = s.one!.pending[0];
        if (first && (!done || comparePositions(first.before, done, topicStream) < 0)) done = first.before;
      }
      for (const { before } of [...orphans, ...(held ?? [])]) if (!done || comparePositions(before, done, topicStream) < 0) done = before;
      // A copy: the stream moves its own position in place, and a tab in this realm keeps what it is told.
      return done ?? { ...at };
    },
    close: () => clearTimeout(holdTimer),
  };
}

/** True when `a` is fitter than `b` to run one-events: placed in the stream, then visible, then focused last. */
function fitter(a: Subscription, b: Subscription): boolean {
  const live = +(a.place.kind === 'live') - +(b.place.kind === 'live');
  const visible = +a.tab.visible - +b.tab.visible;
  return (live || visible || a.tab.focusedAt - b.tab.focusedAt) > 0;
}
