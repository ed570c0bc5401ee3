import type { StoredEvent, StoreListener } from './event-store.js';

/**
 * Hands `event` to every listener. A listener that throws has missed the event, so its
 * subscription ends (`lost`) rather than silently going on without it.
 */
export function deliver(listeners: Set<StoreListener>, event: StoredEvent): void {
  for (const listener of [...listeners]) {
    try {
      listener.event(event);
    } catch (error) {
      listeners.delete(listener);
      listener.lost(error);
    }
  }
}
