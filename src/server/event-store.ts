/**
 * What `createRealtimeServer` needs from the one ordered log of events (the server protocol in the README
 * §1). `memoryStore()` and `redisStore()` implement it; another store must keep the same
 * promises: cursors strictly increase in publish order, `read` is exact about what it lost,
 * and subscribers see every event appended after `subscribe` resolved, in cursor order.
 */

/** An event as published, before the log gives it a cursor. */
export interface NewEvent {
  topic: string;
  /** Event type; `message` is written without an `event:` line. */
  type: string;
  /** The data as text. */
  data: string;
  /** When set, only connections of this user see the event. */
  user?: string | undefined;
}

/** An event in the log. */
export interface StoredEvent extends NewEvent {
  /** Its position in the log: `<a>-<b>`, strictly increasing in publish order. */
  cursor: string;
}

/** Why a read could not continue right after the cursor it was given. */
export interface ReadReset {
  reason: 'retention' | 'unknown-cursor';
  /** The cursor the events of this read continue after. */
  cursor: string;
}

/** One page of the log. */
export interface ReadResult {
  /** Set when events after the requested cursor are gone or the cursor is not of this log. */
  reset?: ReadReset | undefined;
  /** Oldest first: the events after the requested cursor (or after `reset.cursor`). */
  events: StoredEvent[];
}

/** Receives the live events of a store. */
export interface StoreListener {
  /** An appended event; called in cursor order, never twice for one event. */
  event(event: StoredEvent): void;
  /**
   * The store can no longer promise that nothing was skipped (its tail lost the connection or
   * fell behind retention). The subscription is over; subscribers must start again from their
   * cursors, which `read` answers exactly.
   */
  lost(error?: unknown): void;
}

/** The log that `createRealtimeServer` publishes to, replays from and listens to. */
export interface EventStore {
  /** Appends an event; resolves with it, cursor included. */
  append(event: NewEvent): Promise<StoredEvent>;
  /**
   * Up to `limit` events after `after`, oldest first. `after` is any string a client sent:
   * one that is not a cursor of this log gives a reset with reason `unknown-cursor`. The
   * cursor `0-0` is the start of every log.
   */
  read(after: string, limit: number): Promise<ReadResult>;
  /** The cursor of the newest event (the start of the log, `0-0` or `<a>-0`, when empty). */
  head(): Promise<string>;
  /**
   * Calls `listener` with every event appended from now on. Resolves, with the unsubscribe
   * function, once that promise holds: an event appended after it resolved is never missed.
   */
  subscribe(listener: StoreListener): Promise<() => void>;
  /** Ends every subscription and releases connections the store opened itself. */
  close(): Promise<void>;
}
