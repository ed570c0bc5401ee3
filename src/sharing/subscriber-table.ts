import type { Frame } from '../protocol/messages.js';
import type { LinkSubscriber } from './link.js';

/**
 * The tab side of every link: numbers the tab's subscribers and hands each delivered frame to
 * its owner. Subscription numbers are unique per tab, never reused.
 */
export function createSubscriberTable() {
  const subscribers = new Map<number, LinkSubscriber>();
  let next = 1;
  return {
    add(subscriber: LinkSubscriber): number {
      const sub = next++;
      subscribers.set(sub, subscriber);
      return sub;
    },
    remove(sub: number): void {
      subscribers.delete(sub);
    },
    get(sub: number): LinkSubscriber | undefined {
      return subscribers.get(sub);
    },
    entries(): IterableIterator<[number, LinkSubscriber]> {
      return subscribers.entries();
    },
    dispatch(frames: Frame[]): void {
      for (const frame of frames) {
        const subscriber = subscribers.get(frame.sub);
        if (!subscriber) continue;
        if (frame.kind === 'events') subscriber.onEvents(frame.events);
        else subscriber.onStatus(frame.status);
      }
    },
    /** The provider of subscription `sub`, for the hub. */
    headers(sub: number) {
      const provider = subscribers.get(sub)?.headers;
      return provider ? provider() : Promise.resolve({});
    },
  };
}

/** See {@link createSubscriberTable}. */
export type SubscriberTable = ReturnType<typeof createSubscriberTable>;
