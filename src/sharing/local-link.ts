import { createHub, type Hub } from '../hub/hub.js';
import type { Link } from './link.js';
import { createSessionLink, type Session, type SessionLink } from './session-link.js';

let shared: Link | undefined;

/**
 * The tab runs the hub itself (`sharing: 'none'`): no sharing across tabs, but two clients of one
 * tab with the same stream still share one connection. Nothing comes back to such a hub after a
 * reload, so it keeps no grace period and no catch-up memory.
 */
export function localLink(): Link {
  if (!shared) {
    const link = createSessionLink('none', () => {});
    link.use(localSession(createHub({ graceMs: 0, catchUpChars: 0 }), link));
    shared = link.link;
  }
  return shared;
}

/** A session on a hub of this realm, delivering to `link`'s subscribers. */
export function localSession(hub: Hub, link: SessionLink): Session {
  // Async, as a call across a port is: a provider gone since is a refusal, not a throw in the hub.
  const peer = hub.attach({ deliver: link.dispatch, headers: async (sub) => link.headers(sub) });
  return {
    subscribe: peer.subscribe,
    update: peer.update,
    unsubscribe: peer.unsubscribe,
    detach: peer.detach,
  };
}
