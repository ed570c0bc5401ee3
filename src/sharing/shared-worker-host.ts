import * as Comlink from 'comlink';
import { createHub, type Hub, type HubPeer } from '../hub/hub.js';
import { PROTOCOL_VERSION, type DeliverMessage, type HubControl, type TabControl, type Welcome } from '../protocol/messages.js';
import type { HeadersInit } from '../protocol/types.js';
import { holdForever, randomId, webLocks, whenReleased } from './locks.js';

/** The part of SharedWorkerGlobalScope the host needs (the DOM and WebWorker libs do not mix). */
export interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
}

/**
 * Runs a hub in a SharedWorker: every tab that connects gets its own {@link HubControl} over
 * Comlink, and events come back on a plain port, one message per flush.
 */
export function serveSharedWorker(scope: SharedWorkerScope, hub: Hub = createHub()): void {
  const lifeLock = `ssemux:worker:${randomId()}`;
  const locks = webLocks();
  // Tabs wait on this lock: when it is granted to one of them, this worker is gone. It is named
  // to tabs only once held, or a tab could take it first and think the worker dead.
  const welcome: Promise<Welcome> = (locks ? holdForever(locks, lifeLock) : Promise.resolve()).then(() => ({
    v: PROTOCOL_VERSION,
    lifeLock,
  }));
  scope.onconnect = (event) => {
    const port = event.ports[0]!;
    Comlink.expose(createTabControl(hub, welcome, () => port.close()), port);
  };
}

function createTabControl(hub: Hub, welcome: Promise<Welcome>, closePort: () => void): HubControl {
  let peer: HubPeer | undefined;
  let release: (() => void) | undefined;
  return {
    hello: () => welcome,
    attach(tabLock, data, calls) {
      if (peer) return;
      const tab = Comlink.wrap<TabControl>(calls);
      // A call to a tab that died never settles in Comlink: settle those ourselves on release.
      const pending = new Set<(error: Error) => void>();
      peer = hub.attach({
        deliver(frames) {
          const message: DeliverMessage = { v: PROTOCOL_VERSION, kind: 'deliver', frames };
          data.postMessage(message);
        },
        headers(sub) {
          return new Promise<HeadersInit>((resolve, reject) => {
            pending.add(reject);
            tab.headers(sub).then(resolve, reject).finally(() => pending.delete(reject));
          });
        },
      });
      release = () => {
        peer?.detach();
        peer = undefined;
        release = undefined;
        for (const reject of pending) reject(new Error('The tab is gone'));
        tab[Comlink.releaseProxy]();
        // Comlink 4.4.2 leaves the ports open after releaseProxy.
        calls.close();
        data.close();
        closePort();
      };
      const locks = webLocks();
      if (locks) whenReleased(locks, tabLock, () => release?.());
    },
    subscribe: (request) => peer?.subscribe(request),
    setTypes: (sub, types) => peer?.setTypes(sub, types),
    unsubscribe: (sub) => peer?.unsubscribe(sub),
    detach: () => release?.(),
  };
}
