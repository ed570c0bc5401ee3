import type { Frame, SubscribeRequest } from '../protocol/messages.js';
import type { ConnectionStatus, Filter, Position } from '../protocol/stream.js';
import type { RealtimeErrorCode } from '../protocol/errors.js';
import type { HeadersInit, ResolvedSharing, StatusError } from '../protocol/types.js';
import type { Link, LinkSubscriber } from './link.js';

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
  /** The current session, if any. */
  readonly session: Session | undefined;
  /** Subscribers of this tab on this link. */
  readonly size: number;
  /** Hands each delivered frame to its subscriber. */
  dispatch(frames: Frame[]): void;
  /** The headers provider of subscription `sub`, for the hub; throws for one that is gone. */
  headers(sub: number): Promise<HeadersInit>;
  /** A hub serves this tab from now on: every subscriber resubscribes there, from where it stands. */
  use(session: Session): void;
  /** The hub is gone: subscribers say `reconnecting` until {@link SessionLink.use} gives them another. */
  lost(): void;
  /** This link can serve no one any more: every subscriber moves to the next sharing mode. */
  fail(code: RealtimeErrorCode, message: string): void;
}

/**
 * The tab side shared by every link: the tab's subscribers (numbered per tab, never reused) and
 * the session they are subscribed through. Hubs come and go (a worker restart, a leader
 * takeover, a page back from the back/forward cache); subscribers stay and resume from their
 * positions. `wanted` is called when a subscriber needs a session and there is none; `emptied`
 * when the last subscriber closed.
 */
export function createSessionLink(sharing: ResolvedSharing, wanted: () => void, emptied: () => void = () => {}): SessionLink {
  /** Each subscriber, and the last status it got (to say `reconnecting` while its hub is gone). */
  const subscribers = new Map<number, { s: LinkSubscriber; status?: ConnectionStatus }>();
  let next = 1;
  let session: Session | undefined;
  let broken: StatusError | undefined;
  const request = (sub: number, s: LinkSubscriber): SubscribeRequest => ({ sub, spec: s.spec, filter: s.filter(), position: s.position(), provider: !!s.headers });

  return {
    get session() {
      return session;
    },
    get size() {
      return subscribers.size;
    },
    dispatch(frames) {
      for (const frame of frames) {
        const entry = subscribers.get(frame.sub);
        if (!entry) continue;
        if ('status' in frame) entry.s.onStatus((entry.status = frame.status));
        else entry.s.onEvents(frame.events, frame.at);
      }
    },
    // Asked only of subscribers with a provider; one that left since throws, which the hub's
    // call takes as a refusal (and asks another).
    headers: (sub) => subscribers.get(sub)!.s.headers!(),
    use(to) {
      session = to;
      for (const [sub, { s }] of subscribers) to.subscribe(request(sub, s));
    },
    lost() {
      session = undefined;
      for (const entry of subscribers.values()) {
        const last = entry.status;
        if (!last || last.state === 'reconnecting' || last.state === 'closed') continue;
        const { retryInMs: _, ...rest } = last;
        entry.s.onStatus((entry.status = { ...rest, state: 'reconnecting' }));
      }
    },
    fail(code, message) {
      const error = (broken = { name: 'RealtimeError', code, message });
      session = undefined;
      const all = [...subscribers.values()];
      subscribers.clear();
      for (const { s } of all) s.onLost(error);
    },
    link: {
      sharing,
      subscribe(s) {
        if (broken) {
          const error = broken;
          queueMicrotask(() => s.onLost(error));
          return { update() {}, close() {} };
        }
        const sub = next++;
        subscribers.set(sub, { s });
        if (session) session.subscribe(request(sub, s));
        else wanted();
        return {
          update: (filter) => session?.update(sub, filter, s.position()),
          close() {
            if (!subscribers.delete(sub)) return;
            session?.unsubscribe(sub, false);
            if (subscribers.size === 0) emptied();
          },
        };
      },
    },
  };
}
