import { createHub, type Hub } from '../hub/hub.js';
import { NAMESPACE, PROTOCOL_VERSION, type TabControl, type Welcome } from '../protocol/messages.js';
import { createHubControl, PING_MS } from './hub-host.js';
import { holdLock, randomId, webLocks } from './locks.js';
import { expose, wrap } from './rpc.js';

/** The part of SharedWorkerGlobalScope the host needs (the DOM and WebWorker libs do not mix). */
export interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
}

/**
 * Runs a hub in a SharedWorker: every tab that connects gets its own {@link HubControl} on the
 * connection's port (which also carries the hub's calls to the tab), and events on a port of
 * their own, one message per flush.
 */
export function serveSharedWorker(scope: SharedWorkerScope, hub: Hub = createHub()): void {
  const locks = webLocks();
  const lifeLock = `${NAMESPACE}:worker:${randomId()}`;
  // Tabs wait on this lock: when it is granted to one of them, this worker is gone. It is named
  // to tabs only once held, or a tab could take it first and think the worker dead.
  const welcome: Promise<Welcome> = (locks ? holdLock(locks, lifeLock).held : Promise.resolve(false)).then((held) =>
    held ? { v: PROTOCOL_VERSION, lifeLock } : { v: PROTOCOL_VERSION, pingMs: PING_MS },
  );
  scope.onconnect = (event) => {
    const port = event.ports[0]!;
    const [tab, , releaseTab] = wrap<TabControl>(port);
    const control = createHubControl(hub, welcome, (data) => ({
      post: (message) => data?.postMessage(message),
      tab,
      close() {
        releaseTab();
        data?.close();
        port.close();
      },
    }));
    expose(control, port);
  };
}
