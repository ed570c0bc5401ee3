import type { SubscribeRequest } from '../protocol/messages.js';
import type { Filter, Position } from '../protocol/stream.js';
import type { ResolvedSharing, StatusError } from '../protocol/types.js';
import type { Link } from './link.js';
import { createSubscriberTable, type SubscriberTable } from './subscriber-table.js';

/** What a link talks to: a hub in this realm or elsewhere. Calls are ordered and never awaited. */
export interface Session {
  subscribe(request: SubscribeRequest): void;
  update(sub: number, filter: Filter, position: Position): void;
  unsubscribe(sub: number, grace: boolean): void;
  /** The page goes away (pagehide): the hub lets go of this tab, with the grace period. */
  detach(): void;
}

/** A link whose hub may change under it; see {@link createSessionLink}. */
export interface SessionLink {
  link: Link;
  table: SubscriberTable;
  /** The current session, if any. */
  readonly session: Session | undefined;
  /** A hub serves this tab from now on: every subscriber resubscribes there, from where it stands. */
  use(session: Session): void;
  /** The hub is gone: subscribers say `reconnecting` until {@link SessionLink.use} gives them another. */
  lost(): void;
  /** This link can serve no one any more: every subscriber moves to the next sharing mode. */
  fail(error: StatusError): void;
}

/**
 * The tab side shared by the SharedWorker and the leader links: a table of subscribers and the
 * session they are subscribed through. Hubs come and go (a worker restart, a leader takeover, a
 * page back from the back/forward cache); subscribers stay and resume from their positions.
 * `wanted` is called when a subscriber needs a session and there is none; `emptied` when the last
 * subscriber closed.
 */
export function createSessionLink(sharing: ResolvedSharing, wanted: () => void, emptied: () => void = () => {}): SessionLink {
  const table = createSubscriberTable();
  let session: Session | undefined;
  let broken: StatusError | undefined;

  const sessionLink: SessionLink = {
    table,
    get session() {
      return session;
    },
    use(next) {
      session = next;
      for (const [sub, subscriber] of table.entries()) next.subscribe(table.request(sub, subscriber));
    },
    lost() {
      session = undefined;
      table.hubLost();
    },
    fail(error) {
      broken = error;
      session = undefined;
      const lost = [...table.entries()];
      for (const [sub] of lost) table.remove(sub);
      for (const [, subscriber] of lost) subscriber.onLost(error);
    },
    link: {
      sharing,
      subscribe(subscriber) {
        if (broken) {
          const error = broken;
          queueMicrotask(() => subscriber.onLost(error));
          return { update() {}, close() {} };
        }
        const sub = table.add(subscriber);
        if (session) session.subscribe(table.request(sub, subscriber));
        else wanted();
        return {
          update: (filter) => session?.update(sub, filter, subscriber.position()),
          close() {
            if (!table.get(sub)) return;
            table.remove(sub);
            session?.unsubscribe(sub, false);
            if (table.size === 0) emptied();
          },
        };
      },
    },
  };
  return sessionLink;
}
