import { createHub, type Hub } from '../hub/hub.js';
import type { Link } from './link.js';
import { createSubscriberTable } from './subscriber-table.js';

let shared: Link | undefined;

/**
 * The tab runs the hub itself (`sharing: 'none'`): no sharing across tabs, but two clients of
 * one tab with the same stream still share one connection.
 */
export function localLink(): Link {
  return (shared ??= createLocalLink(createHub()));
}

/** A link to a hub in this same realm; exported for the leader, which runs one for its followers. */
export function createLocalLink(hub: Hub, sharing: Link['sharing'] = 'none'): Link {
  const table = createSubscriberTable();
  const peer = hub.attach({ deliver: table.dispatch, headers: table.headers });
  return {
    sharing,
    subscribe(subscriber) {
      const sub = table.add(subscriber);
      peer.subscribe({ sub, spec: subscriber.spec, types: subscriber.types(), lastEventId: subscriber.resumeFrom() });
      return {
        setTypes: (types) => peer.setTypes(sub, types),
        close() {
          table.remove(sub);
          peer.unsubscribe(sub);
        },
      };
    },
  };
}
