import type { EventStore, NewEvent, StoredEvent, StoreListener } from './event-store.js';
import { resumePoint, type LogBounds } from './resume-point.js';
import { deliver } from './deliver.js';
import { createLocalGroup } from './local-group.js';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Events kept for replay; older ones are dropped (a client resuming from before them gets
   * `ssemux:reset`).
   * @default 10000
   */
  maxEvents?: number;
  /**
   * Events older than this are dropped too.
   * @default Infinity
   */
  maxAgeMs?: number;
}

/** Defaults of {@link memoryStore}. */
export const MEMORY_STORE_DEFAULTS: Readonly<Required<MemoryStoreOptions>> = Object.freeze({
  maxEvents: 10_000,
  maxAgeMs: Infinity,
});

interface Entry {
  event: StoredEvent;
  at: number;
}

/**
 * The embedded log: a ring of recent events in this process. Cursors are `<generation>-<n>`, the
 * generation the store's creation time in ms and six random digits (stores made in the same
 * millisecond differ too), so a cursor from another process (or another store) is recognised as
 * unknown and answered with a reset. It may be shared by several servers of the process and outlives them all: a server
 * started later on the same store resumes clients as a durable log would. Those servers form
 * its group (`join`): a `disconnect()` on one reaches them all.
 */
export function memoryStore(options: MemoryStoreOptions = {}): EventStore {
  const maxEvents = options.maxEvents ?? MEMORY_STORE_DEFAULTS.maxEvents;
  const maxAgeMs = options.maxAgeMs ?? MEMORY_STORE_DEFAULTS.maxAgeMs;
  if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new TypeError('memoryStore: maxEvents must be a positive integer');
  if (!(maxAgeMs > 0)) throw new TypeError('memoryStore: maxAgeMs must be a positive number');

  const generation = `${Date.now()}${String(crypto.getRandomValues(new Uint32Array(1))[0]! % 1e6).padStart(6, '0')}`;
  const ring: (Entry | undefined)[] = new Array(maxEvents);
  let last = 0; // ordinal of the newest event
  let size = 0; // events kept: ordinals last - size + 1 .. last
  const listeners = new Set<StoreListener>();
  const group = createLocalGroup();
  // An event appended by a listener while another is being handed out waits its turn, so
  // every listener sees events in cursor order.
  const pending: StoredEvent[] = [];
  let dispatching = false;
  let closed = false;

  const at = (ordinal: number) => ring[(ordinal - 1) % maxEvents]!;
  const dropExpired = (now: number) => {
    while (size > 0 && now - at(last - size + 1).at > maxAgeMs) {
      ring[(last - size) % maxEvents] = undefined;
      size--;
    }
  };
  const bounds = (): LogBounds => ({ generation, first: BigInt(last - size + 1), last: BigInt(last) });

  const dispatch = (event: StoredEvent) => {
    pending.push(event);
    if (dispatching) return;
    dispatching = true;
    for (let next = pending.shift(); next; next = pending.shift()) deliver(listeners, next);
    dispatching = false;
  };

  return {
    async append(input: NewEvent) {
      if (closed) throw new Error('memoryStore: closed');
      const now = Date.now();
      const event: StoredEvent = { cursor: `${generation}-${++last}`, topic: input.topic, type: input.type, data: input.data };
      if (input.user !== undefined) event.user = input.user;
      ring[(last - 1) % maxEvents] = { event, at: now };
      size = Math.min(size + 1, maxEvents);
      dropExpired(now);
      dispatch(event);
      return event;
    },

    async read(after, limit) {
      dropExpired(Date.now());
      const point = resumePoint(after, bounds());
      const from = Number(point.after) + 1;
      const to = Math.min(last, from + limit - 1);
      const events: StoredEvent[] = [];
      for (let ordinal = from; ordinal <= to; ordinal++) events.push(at(ordinal).event);
      return { reset: point.reset, events };
    },

    async head() {
      return `${generation}-${last}`;
    },

    async subscribe(listener) {
      if (closed) throw new Error('memoryStore: closed');
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    async join(member) {
      if (closed) throw new Error('memoryStore: closed');
      return group.join(member);
    },

    async close() {
      closed = true;
      listeners.clear();
      group.clear();
    },
  };
}
