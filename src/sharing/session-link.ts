import type { RealtimeErrorCode } from '../protocol/errors.js';
import { toStatusError } from '../protocol/errors.js';
import type { ConnectionStatus } from '../protocol/stream.js';
import type { HubMessage, SubscribeMessage, TabMessage } from '../protocol/tab-hub-messages.js';
import type { ResolvedSharing, StatusError } from '../protocol/types.js';
import type { Link, LinkSubscriber } from './link.js';
import type { TabContext } from './tab-context.js';

/** Sends a message to the hub serving this tab now. Messages are handled in the order sent. */
export type HubSend = (message: TabMessage) => void;

/** A link whose hub may change under it; see {@link createSessionLink}. */
export interface SessionLink {
  link: Link;
  /** Subscribers of this tab on this link. */
  readonly size: number;
  /** How to reach the hub serving this tab now; none while it has none. */
  readonly hub: HubSend | undefined;
  /** Handles what the hub serving this tab says: frames, questions for headers, failures. */
  receive(message: HubMessage): void;
  /** A hub serves this tab from now on: every subscriber resubscribes there, from where it stands. */
  use(send: HubSend): void;
  /** The page goes away: the hub lets go of this tab, with the grace period. */
  detach(): void;
  /** The hub is gone: subscribers say `reconnecting` until {@link SessionLink.use} gives them another. */
  lost(): void;
  /** This link can serve no one any more: every subscriber moves to the next sharing mode. */
  fail(code: RealtimeErrorCode, message: string): void;
}

/**
 * The tab side shared by every link: the tab's subscribers (numbered per tab, never reused) and
 * the hub they are subscribed through. Hubs come and go (a worker restart, a leader takeover, a
 * page back from the back/forward cache); subscribers stay and resume from their positions.
 * `wanted` is called when a subscriber needs a hub and there is none; `emptied` when the last
 * subscriber closed. Every hub it uses hears the page's visibility, first and at every change.
 */
export function createSessionLink(sharing: ResolvedSharing, page: Pick<TabContext, 'visibility' | 'onVisibility'>, wanted: () => void, emptied: () => void = () => {}): SessionLink {
  /** Each subscriber, and the last status it got (to say `reconnecting` while its hub is gone). */
  const subscribers = new Map<number, { s: LinkSubscriber; status?: ConnectionStatus }>();
  let next = 1;
  let send: HubSend | undefined;
  let broken: StatusError | undefined;
  const subscribe = (sub: number, s: LinkSubscriber): SubscribeMessage => {
    const { done, ran } = s.oneDone();
    const joining = s.joining();
    return {
      kind: 'subscribe',
      sub,
      spec: s.spec,
      filter: s.filter(),
      position: s.position(),
      provider: !!s.headers,
      ...(done && { oneDone: done }),
      ...(ran.length && { oneRan: ran }),
      ...(joining && { joining }),
    };
  };
  const setStatus = (entry: { s: LinkSubscriber; status?: ConnectionStatus }, status: ConnectionStatus) => entry.s.onStatus((entry.status = status));

  // The hub prefers a visible, recently focused tab for `tabs: 'one'` listeners.
  page.onVisibility((visibility) => send?.({ kind: 'visibility', ...visibility }));

  /** Asks subscriber `sub`'s provider, and answers the hub that asked, whichever serves now. */
  async function answer(to: HubSend, call: number, sub: number): Promise<void> {
    try {
      // A subscriber that left since is a refusal: the hub asks another.
      const headers = await subscribers.get(sub)!.s.headers!();
      to({ kind: 'headers', call, headers });
    } catch (error) {
      to({ kind: 'headers', call, error: toStatusError(error, 'headers') });
    }
  }

  return {
    get size() {
      return subscribers.size;
    },
    get hub() {
      return send;
    },
    receive(message) {
      if (message.kind === 'frames') {
        for (const frame of message.frames) {
          const entry = subscribers.get(frame.sub);
          if (!entry) continue;
          if ('status' in frame) setStatus(entry, frame.status);
          else if ('tabs' in frame) entry.s.onTabs(frame.tabs);
          else entry.s.onFrame(frame);
        }
      } else if (message.kind === 'ask-headers') {
        if (send) void answer(send, message.call, message.sub);
      } else if (message.kind === 'failed') {
        // The hub could not handle what this tab asked: the subscribers it concerns say why.
        for (const [sub, entry] of subscribers) {
          if (message.sub !== undefined && message.sub !== sub) continue;
          if (entry.status) setStatus(entry, { ...entry.status, reason: 'reported', error: message.error });
          else if (message.sub === sub) {
            // Its subscribe was refused: this hub will not serve it; the next sharing mode may.
            subscribers.delete(sub);
            entry.s.onLost(message.error);
          }
        }
      }
    },
    use(to) {
      send = to;
      to({ kind: 'visibility', ...page.visibility() });
      // A stream the server closed for good (a 204, a 404) stays closed with the next hub.
      for (const [sub, { s, status }] of subscribers) if (status?.state !== 'closed') to(subscribe(sub, s));
    },
    detach() {
      send?.({ kind: 'detach' });
    },
    lost() {
      send = undefined;
      for (const entry of subscribers.values()) {
        const last = entry.status;
        if (!last || last.state === 'reconnecting' || last.state === 'closed') continue;
        const { retryInMs: _, ...rest } = last;
        setStatus(entry, { ...rest, state: 'reconnecting', reason: 'hub-lost' });
      }
    },
    fail(code, message) {
      const error = (broken = { name: 'RealtimeError', code, message });
      send = undefined;
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
          return { update() {}, claim() {}, ran() {}, close() {} };
        }
        const sub = next++;
        subscribers.set(sub, { s });
        if (send) send(subscribe(sub, s));
        else wanted();
        return {
          update: (filter) => send?.({ kind: 'update', sub, filter, position: s.position() }),
          claim: (seq) => send?.({ kind: 'claim', sub, seq }),
          ran: (seq) => send?.({ kind: 'ran', sub, seq }),
          close() {
            if (!subscribers.delete(sub)) return;
            send?.({ kind: 'unsubscribe', sub, grace: false });
            if (subscribers.size === 0) emptied();
          },
        };
      },
    },
  };
}
