import { createHub, type Hub } from '../hub/hub.js';
import { FLUSH_GAP_PER_TAB_MS, MAX_FLUSH_GAP_MS } from '../protocol/limits.js';
import { NAMESPACE, PROTOCOL_VERSION, type TabControl, type Welcome } from '../protocol/messages.js';
import { createHubControl, PING_MS } from './hub-host.js';
import { holdForLife, webLocks } from './locks.js';
import { randomId } from './random-id.js';
import { expose } from './rpc.js';
import { wrap } from './wrap.js';

/** The part of SharedWorkerGlobalScope the host needs (the DOM and WebWorker libs do not mix). */
export interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
}

/**
 * Runs a hub in a SharedWorker: every tab that connects gets its own {@link HubControl} on the
 * connection's port, which also carries the hub's calls to the tab and its data, one message per
 * flush. (A port of its own for the data, as before, was as fast and cost a port per tab.)
 */
export function serveSharedWorker(scope: SharedWorkerScope, hub: Hub = createHub({ flushGap: (tabs) => Math.min(MAX_FLUSH_GAP_MS, tabs * FLUSH_GAP_PER_TAB_MS) })): void {
  const lifeLock = `${NAMESPACE}:worker:${randomId()}`;
  // Tabs wait on this lock: when it is granted to one of them, this worker is gone. It is named
  // to tabs only once held, or a tab could take it first and think the worker dead.
  const welcome: Promise<Welcome> = holdForLife(webLocks(), lifeLock).then((held) =>
    held ? { v: PROTOCOL_VERSION, lifeLock } : { v: PROTOCOL_VERSION, pingMs: PING_MS },
  );
  scope.onconnect = (event) => {
    const port = event.ports[0]!;
    const [tab, releaseTab] = wrap<TabControl>(port);
    const control = createHubControl(hub, welcome, () => ({
      post: (message) => port.postMessage(message),
      tab,
      close() {
        releaseTab();
        port.close();
      },
    }));
    expose(control, port);
  };
}
