import type { Frame, SubscribeRequest } from '../protocol/messages.js';
import type { ConnectionStatus } from '../protocol/stream.js';
import type { HeadersInit } from '../protocol/types.js';
import type { LinkSubscriber } from './link.js';

/**
 * The tab side of every link: numbers the tab's subscribers and hands each delivered frame to
 * its owner. Subscription numbers are unique per tab, never reused.
 */
export function createSubscriberTable() {
  const subscribers = new Map<number, LinkSubscriber>();
  /** The last status each subscriber got, to say `reconnecting` while its hub is gone. */
  const statuses = new Map<number, ConnectionStatus>();
  let next = 1;
  return {
    add(subscriber: LinkSubscriber): number {
      const sub = next++;
      subscribers.set(sub, subscriber);
      return sub;
    },
    remove(sub: number): void {
      subscribers.delete(sub);
      statuses.delete(sub);
    },
    get(sub: number): LinkSubscriber | undefined {
      return subscribers.get(sub);
    },
    entries(): IterableIterator<[number, LinkSubscriber]> {
      return subscribers.entries();
    },
    get size(): number {
      return subscribers.size;
    },
    /** What to send a hub to (re)subscribe `sub`: its spec, filter and position as they are now. */
    request(sub: number, subscriber: LinkSubscriber): SubscribeRequest {
      return { sub, spec: subscriber.spec, filter: subscriber.filter(), position: subscriber.position(), provider: !!subscriber.headers };
    },
    dispatch(frames: Frame[]): void {
      for (const frame of frames) {
        const subscriber = subscribers.get(frame.sub);
        if (!subscriber) continue;
        if (frame.kind === 'events') subscriber.onEvents(frame.events, frame.at);
        else {
          statuses.set(frame.sub, frame.status);
          subscriber.onStatus(frame.status);
        }
      }
    },
    /** The hub is gone: every subscriber is `reconnecting` until a hub takes it again. */
    hubLost(): void {
      for (const [sub, subscriber] of subscribers) {
        const last = statuses.get(sub);
        if (!last || last.state === 'reconnecting' || last.state === 'closed') continue;
        const status: ConnectionStatus = { ...last, state: 'reconnecting' };
        delete status.retryInMs;
        statuses.set(sub, status);
        subscriber.onStatus(status);
      }
    },
    /** The provider of subscription `sub`, for the hub. */
    headers(sub: number): Promise<HeadersInit> {
      const provider = subscribers.get(sub)?.headers;
      return provider ? provider() : Promise.reject(new Error(`Subscription ${sub} has no headers provider`));
    },
  };
}

/** See {@link createSubscriberTable}. */
export type SubscriberTable = ReturnType<typeof createSubscriberTable>;
