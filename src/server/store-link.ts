import type { EventStore, StoreListener, StoreMember, StoreMembership } from './event-store.js';
import { StoreOutageError } from './server-errors.js';

/** A server's hold on its store: the live subscription, its membership, whether the store is there. */
export interface StoreLink {
  /**
   * Resolves once the subscription is live and the store available, so that a connection
   * registered before misses no live event; rejects with a {@link StoreUnavailable} otherwise.
   */
  ready(): Promise<void>;
  /**
   * This server's place in the store's group, once it has joined (waiting for a join in
   * progress); rejects with a {@link StoreUnavailable} when it could not join.
   */
  membership(): Promise<StoreMembership>;
  /** Leaves the group, ends the subscription and stops trying. */
  close(): Promise<void>;
}

/** The store cannot serve now: answered `503`, try again. */
export class StoreUnavailable extends Error {
  constructor(options?: { cause?: unknown }) {
    super('the event store is unavailable', options);
    this.name = 'StoreUnavailable';
  }
}

/**
 * Keeps a server subscribed to its store and joined to its group. Whenever either is missing
 * (at start, after the subscription was lost, while the store is away) it tries again every
 * `retryMs`. `onError` hears once that the store is unavailable and once that it is back.
 */
export function createStoreLink(options: {
  store: EventStore;
  listener: Pick<StoreListener, 'event' | 'lost'>;
  member: StoreMember;
  /** Called once the server has joined the store's group. */
  joined?(membership: StoreMembership): void;
  retryMs: number;
  onError(error: unknown): void;
}): StoreLink {
  const { store, member, retryMs, onError } = options;
  let unsubscribe: (() => void) | null = null;
  let membership: StoreMembership | null = null;
  let available = true;
  let attaching: Promise<void> | null = null;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let outageSince: number | null = null;
  let closed = false;

  const down = (cause: unknown) => {
    if (outageSince !== null) return;
    outageSince = Date.now();
    onError(new StoreOutageError(false, { cause }));
  };
  const up = () => {
    if (outageSince === null) return;
    const downMs = Date.now() - outageSince;
    outageSince = null;
    onError(new StoreOutageError(true, { downMs }));
  };

  const listener: StoreListener = {
    event: (event) => options.listener.event(event),
    lost(error) {
      unsubscribe = null;
      options.listener.lost(error);
      if (!closed) void attach().catch(() => {});
    },
    availability(value, error) {
      available = value;
      if (value) up();
      else down(error);
    },
  };

  const attach = (): Promise<void> =>
    (attaching ??= (async () => {
      try {
        if (!unsubscribe) {
          const subscribed = await store.subscribe(listener);
          if (closed) subscribed();
          else unsubscribe = subscribed;
        }
        if (!membership && !closed) {
          const joined = await store.join(member);
          if (closed) await joined.leave();
          else {
            membership = joined;
            options.joined?.(joined);
          }
        }
        available = true;
        up();
      } catch (error) {
        if (closed) return;
        down(error);
        clearTimeout(retry);
        retry = setTimeout(() => void attach().catch(() => {}), retryMs);
        throw error;
      } finally {
        attaching = null;
      }
    })());

  void attach().catch(() => {});

  return {
    async ready() {
      if (closed) throw new StoreUnavailable();
      if (attaching) {
        try {
          await attaching;
        } catch (error) {
          throw new StoreUnavailable({ cause: error });
        }
      }
      if (!unsubscribe || !available) throw new StoreUnavailable();
    },
    async membership() {
      if (attaching) await attaching.catch(() => {});
      if (!membership) throw new StoreUnavailable();
      return membership;
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      await attaching?.catch(() => {});
      unsubscribe?.();
      unsubscribe = null;
      const leaving = membership;
      membership = null;
      await leaving?.leave().catch(() => {});
    },
  };
}
