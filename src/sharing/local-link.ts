import type { Connection } from '../engine/connection.js';
import { createConnectionScope } from '../engine/connection-scope.js';
import { connectIn, createHub, type Hub, type UpstreamOptions } from '../hub/hub.js';
import { PROTOCOL_VERSION } from '../protocol/release.js';
import type { Link } from './link.js';
import { serveTab } from './serve-tab.js';
import { createSessionLink, type SessionLink } from './session-link.js';
import type { TabContext } from './tab-context.js';

/**
 * The tab runs the hub itself (`sharing: 'none'`): no sharing across tabs, but two clients of one
 * tab with the same stream still share one connection. Nothing comes back to such a hub after a
 * reload, so it keeps no grace period and no catch-up memory. One per page.
 */
export function localLink(context: TabContext): Link {
  return context.once('local', () => {
    const link = createSessionLink('none', context, () => {});
    attachLocally(createHub({ graceMs: 0, catchUpChars: 0, connect: pageConnect(context) }), link);
    return link.link;
  });
}

/**
 * Serves `link`'s subscribers from a hub of this realm, over the same contract as a hub in
 * another realm, without a wire in between: the welcome comes at once, frames as objects.
 */
export function attachLocally(hub: Hub, link: SessionLink): void {
  const send = serveTab(hub, Promise.resolve({ kind: 'welcome', protocol: PROTOCOL_VERSION }), () => ({ send: link.receive, close() {} }));
  send({ kind: 'attach' });
  link.use(send);
}

/**
 * How the hubs of this page open upstreams (a leader's and the local one): in one scope, so that
 * together they keep to `maxConnections` per origin.
 */
export function pageConnect(context: TabContext): (options: UpstreamOptions) => Connection {
  return context.connect ?? context.once('connect', () => connectIn(createConnectionScope()));
}
