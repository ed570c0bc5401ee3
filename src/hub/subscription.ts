import type { Frame } from '../protocol/tab-hub-messages.js';
import type { OneListeners } from './one-tab-router.js';
import type { Filter, Position } from '../protocol/stream.js';
import type { HeadersInit, WireEvent } from '../protocol/types.js';
import { PRESENCE_EVENT } from '../protocol/wire.js';

/**
 * Where a subscription stands against its stream's upstream:
 * - `live`: it receives its share of the stream's batch, from index `from` on (the events before
 *   it were routed before it came, or before its filter changed);
 * - `ahead`: it resumed from further on than the upstream stands (a new upstream still
 *   replaying): it already has every event up to `until`, and waits for the upstream to pass it;
 * - `ahead-of-id`: likewise, at a position that cannot be ordered against the stream (another
 *   lineage): it has everything through the event whose id is `id`, and has let `skipped`
 *   events go by waiting for it.
 */
export type Placement =
  | { kind: 'live'; from: number }
  | { kind: 'ahead'; until: Position }
  | { kind: 'ahead-of-id'; id: string; skipped: number };

/** The tab a subscription belongs to, as its hub reaches it. */
export interface TabSink {
  /** Queues `frame` for the tab's next delivery. */
  push(frame: Frame): void;
  /** Asks the headers provider of the tab's subscriber `sub`. May reject, or never settle (a dead tab). */
  headers(sub: number): Promise<HeadersInit>;
  /** Whether the tab's page is visible, as it last said. */
  readonly visible: boolean;
  /** When the tab last had focus (`Date.now()`), 0 for never. */
  readonly focusedAt: number;
}

/** One subscriber of a stream, as its hub keeps it. */
export interface Subscription {
  /** The tab it belongs to. */
  readonly tab: TabSink;
  /** The tab's number for it. */
  readonly sub: number;
  /** Its filter: every type, or these. */
  all: boolean;
  types: ReadonlySet<string>;
  /** On a topic stream: the topics it receives. */
  topics?: ReadonlySet<string>;
  /**
   * Topics it added that the upstream does not carry yet, and where it stood when it asked: the
   * upstream goes back there when it takes them in.
   */
  waiting?: Map<string, Position>;
  /**
   * Topics the upstream went back for while it stands ahead: their events after the position
   * (moved on as they pass) are new to it; the others it has.
   */
  joins?: Map<string, Position>;
  /**
   * Topics it dropped, and where the stream stood then: it has their events up to there, whatever
   * position its tab asks from when it takes one again (a frame may still be on its way).
   */
  dropped?: Map<string, Position>;
  /** Its tab owns a headers provider the hub may ask. */
  readonly provider: boolean;
  place: Placement;
  /**
   * Events owed to it ahead of its share of the batch: caught up from the hub's memory, read
   * while it stood ahead of the stream, or taken out of the batch under a filter it changed.
   */
  owed: WireEvent[];
  /** The position last sent to it: a flush that moved the stream tells it the new one. */
  told?: Position;
  /** Its `tabs: 'one'` listeners' part (./one-tab-router.ts), while it has any. */
  one?: OneListeners;
  /** Through where the stream's one-events were done, as last sent to it. */
  toldOneDone?: Position;
  /** Types whose last event it asked for and was not sent yet (`latest: true`). */
  latestWanted?: string[];
  /** The tab count last sent to it. */
  toldTabs?: string;
  /** The topics it was catching up on, as last sent to it (JSON; none: never, or none since). */
  toldJoining?: string;
}

/** True when `s` listens to `event`'s type and (on a topic stream) topic. Presence goes only to listeners of it by name. */
export function matches(s: Subscription, event: WireEvent): boolean {
  // '*' covers every type but presence, which goes only to those who name it.
  return (s.all ? event.type !== PRESENCE_EVENT || s.types.has(event.type) : s.types.has(event.type)) && (event.topic === undefined || s.topics!.has(event.topic));
}

/** Sets the types `s` listens to, from a filter (`'*'` among them meaning every type). */
export function setTypes(s: Subscription, filter: Filter): void {
  s.all = filter.types.includes('*');
  s.types = new Set(filter.types.filter((t) => t !== '*'));
}

/**
 * The events of `batch` from `from` on that `s` listens to. Subscriptions with the same filter
 * whose share starts at the beginning get the same array (`shares`, for one flush), so a link
 * that crosses realms encodes it once.
 */
export function shareOf(s: Subscription, batch: WireEvent[], from: number, shares: Map<string, WireEvent[]>, topicStream: boolean): WireEvent[] {
  if (from >= batch.length) return [];
  // '*' on a plain stream takes everything: the batch itself.
  if (from === 0 && s.all && !topicStream) return batch;
  // ('*' with a presence listener is another filter: '*' alone gets no presence.)
  const key = from === 0 ? `${s.all ? (s.types.has(PRESENCE_EVENT) ? '*p' : '*') : [...s.types].join('\n')}\t${s.topics ? [...s.topics].join('\n') : ''}` : undefined;
  let events = key === undefined ? undefined : shares.get(key);
  if (!events) {
    events = [];
    for (let i = from; i < batch.length; i++) if (matches(s, batch[i]!)) events.push(batch[i]!);
    if (key !== undefined) shares.set(key, events);
  }
  return events;
}
