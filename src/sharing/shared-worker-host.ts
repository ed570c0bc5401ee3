import { createHub, type Hub } from '../hub/hub.js';
import { FLUSH_COST_FACTOR, MAX_FLUSH_GAP_MS, PING_MS } from '../protocol/limits.js';
import { randomId } from '../protocol/random-id.js';
import { NAMESPACE, PROTOCOL_VERSION } from '../protocol/release.js';
import type { TabMessage, Welcome } from '../protocol/tab-hub-messages.js';
import { holdLock, webLocks, workerLockPrefix } from './locks.js';
import { serveTab } from './serve-tab.js';
import { createWireEncoder } from './wire-encoder.js';

/** The part of SharedWorkerGlobalScope the host needs (the DOM and WebWorker libs do not mix). */
export interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
}

/** Options of {@link serveSharedWorker}: what a test replaces. */
export interface SharedWorkerHostOptions {
  /** @default a hub whose flushes are spaced by {@link FLUSH_COST_FACTOR} times what the last one took */
  hub?: Hub;
  /** The protocol version the worker speaks. @default PROTOCOL_VERSION */
  protocol?: number;
  /** @default this release's NAMESPACE */
  namespace?: string;
}

/**
 * Runs a hub in a SharedWorker: every tab that connects is served on the connection's port
 * (./serve-tab.ts), which carries the contract both ways, the hub's data one message per flush.
 */
export function serveSharedWorker(scope: SharedWorkerScope, options: SharedWorkerHostOptions = {}): void {
  const hub = options.hub ?? createHub({ flushGap: (_, lastFlushMs) => Math.min(MAX_FLUSH_GAP_MS, lastFlushMs * FLUSH_COST_FACTOR) });
  const protocol = options.protocol ?? PROTOCOL_VERSION;
  const lifeLock = workerLockPrefix(options.namespace ?? NAMESPACE) + randomId();
  const toWire = createWireEncoder();
  // Tabs wait on this lock: when it is granted to one of them, this worker is gone. It is named
  // to tabs only once held, or a tab could take it first and think the worker dead.
  const welcome: Promise<Welcome> = holdLock(webLocks(), lifeLock).held.then((held) =>
    held ? { kind: 'welcome', protocol, lifeLock } : { kind: 'welcome', protocol, pingMs: PING_MS },
  );
  scope.onconnect = (event) => {
    const port = event.ports[0] as MessagePort;
    const serve = serveTab(hub, welcome, () => ({ send: (message) => port.postMessage(toWire(message)), close: () => port.close() }));
    port.onmessage = ({ data }: MessageEvent<TabMessage>) => serve(data);
  };
}
