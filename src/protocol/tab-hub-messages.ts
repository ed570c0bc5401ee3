import type { ConnectionStatus, Filter, Position, StreamSpec, TabCount } from './stream.js';
import type { HeadersInit, StatusError, WireEvent } from './types.js';

/**
 * The one contract between a tab and a hub (in a SharedWorker, in a leader tab, or in the tab
 * itself): every message either sends, as one discriminated union, spoken the same way over a
 * worker's port, a leader's channels and the in-page link. A link carries these messages and
 * nothing else; the hub's side of a tab handles {@link TabMessage}s, the tab's side of a hub
 * handles {@link HubMessage}s. Only `frames` changes shape on a link that crosses realms: its
 * events travel as one string per array (src/sharing/wire-encoder.ts).
 *
 * Version: {@link PROTOCOL_VERSION} (src/protocol/release.ts); bump it on any change here.
 */
export type TabHubMessage = TabMessage | HubMessage;

/** What a tab says to a hub, in the order it says it: the hub handles them in that order. */
export type TabMessage =
  /** The tab joins. The hub's first answer is a {@link Welcome}; nothing reaches the tab before it. */
  | { kind: 'attach' }
  /** The tab holds Web Lock `lock` for its life: the hub waits on it to notice a dead tab. */
  | { kind: 'watch'; lock: string }
  | SubscribeMessage
  /** A new filter; `position` is where the subscriber stood when it changed: topics it adds are read from there. */
  | { kind: 'update'; sub: number; filter: Filter; position: Position }
  /** `grace`: the page is going away and may come back (a reload); otherwise the stream may close now. */
  | { kind: 'unsubscribe'; sub: number; grace: boolean }
  /** The tab leaves (its page is going away): the hub drops all its subscriptions, with the grace period. */
  | { kind: 'detach' }
  /** The answer to a {@link HubMessage} `ping`, where there are no Web Locks to notice dead tabs. */
  | { kind: 'pong' }
  /** The answer to `ask-headers` number `call`: the headers, or why there are none. */
  | { kind: 'headers'; call: number; headers?: HeadersInit; error?: StatusError }
  /**
   * The tab's page changed: whether it is visible, and when it last had focus (`Date.now()`; 0
   * for never). The hub prefers a visible, recently focused tab for `tabs: 'one'` listeners.
   */
  | { kind: 'visibility'; visible: boolean; focusedAt: number }
  /**
   * Subscriber `sub` is about to run its `tabs: 'one'` listeners for its one-events through number
   * `seq` (see {@link EventsFrame.one}), and waits for the hub's go ({@link EventsFrame.oneGo}): a
   * tab that holds events of a hub that died meanwhile runs none of them (the next hub hands them out).
   */
  | { kind: 'claim'; sub: number; seq: number }
  /** Subscriber `sub` ran its `tabs: 'one'` listeners through its one-event number `seq`. */
  | { kind: 'ran'; sub: number; seq: number };

/** A subscriber asks for a stream, from where it stands. */
export interface SubscribeMessage {
  kind: 'subscribe';
  /** Numbered by the tab, never reused: the hub's name of this subscriber in every later message. */
  sub: number;
  spec: StreamSpec;
  filter: Filter;
  /** Where the subscriber stands: the hub resumes it from here, exactly. */
  position: Position;
  /**
   * Through where the `tabs: 'one'` listeners of its stream have run, as it last heard (or ran
   * itself): a hub that never saw the stream hands out the one-events after it, and none before.
   */
  oneDone?: Position;
  /** Ids of the one-events it ran since (the last few): a hub that never saw them hands none of them out again. */
  oneRan?: string[];
  /** Topics it was still catching up on, as it last heard ({@link EventsFrame.joining}): the hub goes back for them. */
  joining?: Record<string, Position>;
  /** The subscriber owns a headers provider the hub may ask before an attempt (`ask-headers`). */
  provider: boolean;
}

/** What a hub says to a tab. */
export type HubMessage =
  | Welcome
  /** Everything the tab's subscriptions got since the last flush, in order: one message per flush, never one per event. */
  | { kind: 'frames'; frames: Frame[] }
  /** Without Web Locks, the hub asks every {@link Welcome.pingMs}; a tab answers `pong`, and hears this as proof the hub lives. */
  | { kind: 'ping' }
  /** The hub asks the headers provider of subscription `sub` before a connection attempt; the tab answers `headers` with the same `call`. */
  | { kind: 'ask-headers'; call: number; sub: number }
  /**
   * The hub could not handle a message of this tab (`sub`: about that subscription). The error
   * keeps its code, so that the tab reports it as the RealtimeError it was.
   */
  | { kind: 'failed'; error: StatusError; sub?: number };

/** What a hub says once a tab is attached: its first message, always. */
export interface Welcome {
  kind: 'welcome';
  /** The hub's {@link PROTOCOL_VERSION}: a tab of another version reads nothing more from it. */
  protocol: number;
  /** Name of a Web Lock the hub holds for its life: granting it to a tab means the hub died. */
  lifeLock?: string;
  /** Without Web Locks the hub pings the tab this often; silence means it died. */
  pingMs?: number;
}

/** Events for one subscription, in order, and where its stream stands after them. */
export interface EventsFrame {
  sub: number;
  /**
   * May be empty: the stream moved on with events of other types. Subscriptions with the same
   * filter get the same array, so a link that crosses realms encodes it once.
   */
  events: WireEvent[];
  at: Position;
  /**
   * The events this subscriber runs its `tabs: 'one'` listeners for, numbered from `oneSeq` on: it
   * claims them (`claim`), runs them once the hub says go (`oneGo`), and answers `ran`.
   */
  one?: WireEvent[];
  oneSeq?: number;
  /** The hub's go for the one-events it claimed: it runs them through this number. */
  oneGo?: number;
  /** To a subscriber with `tabs: 'one'` listeners: through where the stream's one-events have run; it keeps it with its position. */
  oneDone?: Position;
  /** The last event of each `latest` type it asked for since the last frame, for its `latest: true` listeners, before `events`. */
  latest?: WireEvent[];
  /**
   * On a topic stream: topics it added whose events before `at` it has not all got yet, each with
   * the position it has them through; none when absent. It keeps them with its position, so that
   * a hub it resubscribes to (after a worker restart) goes back for them.
   */
  joining?: Record<string, Position>;
}

/** The tabs attached to the subscription's stream changed. */
export interface TabsFrame {
  sub: number;
  tabs: TabCount;
}

/** A status change of one subscription's stream. */
export interface StatusFrame {
  sub: number;
  status: ConnectionStatus;
}

/** One item of a delivery; frames keep the order in which things happened. */
export type Frame = EventsFrame | StatusFrame | TabsFrame;

