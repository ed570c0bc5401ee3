/**
 * What `createRealtimeServer` needs from the one ordered log of events (the server protocol in
 * the README, §1) and from the group of servers that share it. `memoryStore()` and
 * `redisStore()` implement it; another store must keep the same promises, which
 * test/conformance/describe-store-conformance.ts checks: cursors strictly increase in append
 * order, `read` is exact about what it lost, subscribers see every event appended after
 * `subscribe` resolved, in cursor order, names come back exactly as they were appended, and every
 * server that joined the store hears the others' control messages, in the order each sent them.
 */

/** An event as published, before the log gives it a cursor. */
export interface NewEvent {
  /** A well-formed topic name (server protocol §1). */
  topic: string;
  /** Event type; `message` is written without an `event:` line. */
  type: string;
  /** The data as text. */
  data: string;
  /** When set, only connections of this user see the event. A non-empty, well-formed string. */
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
   * The store can no longer promise that nothing was skipped (its tail fell behind retention,
   * or the log was started anew). The subscription is over; subscribers must start again from
   * their cursors, which `read` answers exactly.
   */
  lost(error?: unknown): void;
  /**
   * The store lost its connection to the log (`false`, with the error) or has it back (`true`).
   * Called once per change, never twice in a row with the same value. The subscription goes on
   * meanwhile: once the store is back, the events appended in between follow in order, or
   * `lost` ends it when they can no longer be told exactly. A store that cannot fail (in the
   * process) never calls it.
   */
  availability?(available: boolean, error?: unknown): void;
}

/**
 * A control message between the servers of one store, such as "end the streams of this user".
 * Any value that survives `JSON.stringify` and `JSON.parse` unchanged.
 */
export type ControlMessage = { readonly type: string } & Readonly<Record<string, unknown>>;

/** A server taking part in the group of servers that share a store. */
export interface StoreMember {
  /**
   * A message another member broadcast. Returns this member's answer (a JSON value, or a
   * promise of one), which goes back to the sender. Never called with the member's own messages.
   */
  receive(message: ControlMessage): unknown;
  /**
   * A member stopped renewing its lease without leaving (its process died) and was dropped
   * from the group: called on exactly one live member, so that it can release what the dead one
   * held. Stores whose members live in one process, where a member cannot die without leaving,
   * never call it.
   */
  memberGone?(memberId: string): void;
  /**
   * This member's lease had ended (the store was out of its reach for longer than the lease)
   * and it is listed again: another member may meanwhile have released what it held, which it
   * may have to restore. Never called in a store whose members live in one process.
   */
  rejoined?(): void;
}

/** What {@link EventStore.join} gives: this member's place in the group. */
export interface StoreMembership {
  /** This member's id, never given to another member of the store. */
  readonly id: string;
  /** Ids of the members alive now, this one included. */
  members(): Promise<string[]>;
  /**
   * Hands `message` to every other live member; resolves with their answers once each has
   * answered, or after `timeoutMs` with those that did (`missing` counts the others: a member
   * that answers late still acts on the message). Rejects when the message could not be sent.
   */
  broadcast(message: ControlMessage, timeoutMs: number): Promise<{ answers: unknown[]; missing: number }>;
  /**
   * Hands `message` to every other live member, with no answer: a notice. Resolves once the
   * store has taken it; rejects when it could not. Every member receives the notices,
   * broadcasts and answers of one sender in the order it sent them: a notice that a member sent
   * (and saw resolve) before its `receive` of a broadcast resolved reaches the broadcaster before
   * that member's answer.
   */
  notify(message: ControlMessage): Promise<void>;
  /** Leaves the group: no more messages, and gone from `members()` at once. */
  leave(): Promise<void>;
}

/** The log that `createRealtimeServer` publishes to, replays from and listens to. */
export interface EventStore {
  /**
   * Appends an event; resolves with it, cursor included. Calls made one after another land in
   * the log in call order, whether or not the caller waited: a call that rejects is never
   * stored after one made later.
   */
  append(event: NewEvent): Promise<StoredEvent>;
  /**
   * The first `limit` events after `after`, oldest first, or all of them when fewer: a page
   * shorter than `limit` tells the server it has reached the end of the log, so a backend that
   * pages its own reads (a row or byte cap) reads on until it has `limit`. (Reading on until an
   * empty page instead would cost every resuming client a second read.) `after` is any string a
   * client sent: one that is not a cursor of this log (another log, the future, beyond 64 bits,
   * garbage) gives a reset with reason `unknown-cursor`, never an error. The cursor `0-0` is the
   * start of every log.
   */
  read(after: string, limit: number): Promise<ReadResult>;
  /** The cursor of the newest event (the start of the log, `0-0` or `<a>-0`, when empty). */
  head(): Promise<string>;
  /**
   * Calls `listener` with every event appended from now on. Resolves, with the unsubscribe
   * function, once that promise holds: an event appended after it resolved is never missed.
   */
  subscribe(listener: StoreListener): Promise<() => void>;
  /**
   * Joins the group of servers that share this store (every instance on one Redis key, every
   * server on one memoryStore): resolves once `member` hears every message broadcast from then
   * on, and is listed by `members()`.
   */
  join(member: StoreMember): Promise<StoreMembership>;
  /** Ends every subscription and membership, and releases connections the store opened itself. */
  close(): Promise<void>;
}
