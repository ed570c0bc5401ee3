import type { Hub, HubPeer } from '../hub/hub.js';
import { RealtimeError, toStatusError } from '../protocol/errors.js';
import { MISSED_PINGS } from '../protocol/limits.js';
import type { HubMessage, TabMessage, Welcome } from '../protocol/tab-hub-messages.js';
import type { HeadersInit } from '../protocol/types.js';
import { webLocks, whenReleased } from './locks.js';

/** How a hub reaches one tab: a transport of {@link HubMessage}s, nothing more. */
export interface TabLink {
  send(message: HubMessage): void;
  /** Frees the port or channel: the tab is gone, or left. */
  close(): void;
}

/**
 * The hub's side of one tab, for the SharedWorker, the leader and the page's own hub alike: it
 * handles the tab's {@link TabMessage}s, in order, and says what the hub has for the tab. `open`
 * makes the tab's link when it attaches; `gone` runs once the tab has left or died and everything
 * of it was let go.
 *
 * The welcome is the first message a tab hears (a tab reads nothing before it knows the hub
 * speaks its protocol): what the hub has for the tab before the welcome is ready waits for it.
 * What the hub cannot handle is said to the tab as `failed`, with its code, never swallowed.
 */
export function serveTab(hub: Hub, welcome: Promise<Welcome>, open: () => TabLink, gone: () => void = () => {}): (message: TabMessage) => void {
  let peer: HubPeer | undefined;
  let release: (() => void) | undefined;
  /** What this tab holds open: a lock wait, a ping timer. Ended on release. */
  const owned: (() => void)[] = [];
  /** Headers asked of the tab, by call number, until it answers. */
  const asked = new Map<number, { resolve(headers: HeadersInit): void; reject(error: Error): void }>();
  let calls = 0;
  let missedPings = 0;
  /** Sends to the tab, once attached: after the welcome, in order. */
  let send: (message: HubMessage) => void = () => {};

  function attach(): void {
    if (peer) return;
    const link = open();
    let held: HubMessage[] | undefined = [];
    send = (message) => (held ? held.push(message) : link.send(message));
    peer = hub.attach({
      deliver: (frames) => send({ kind: 'frames', frames }),
      headers: (sub) =>
        new Promise<HeadersInit>((resolve, reject) => {
          const call = ++calls;
          asked.set(call, { resolve, reject });
          send({ kind: 'ask-headers', call, sub });
        }),
    });
    void welcome.then((w) => {
      if (!release) return;
      link.send(w);
      for (const message of held!) link.send(message);
      held = undefined;
      // Nothing else tells a dead tab where the hub has no Web Locks (plain-http origins).
      if (!w.pingMs) return;
      const timer = setInterval(() => {
        if (++missedPings > MISSED_PINGS) release?.();
        else link.send({ kind: 'ping' });
      }, w.pingMs);
      owned.push(() => clearInterval(timer));
    });
    release = () => {
      const current = peer;
      peer = release = undefined;
      current?.handle({ kind: 'detach' });
      for (const end of owned.splice(0)) end();
      const left = new Error('The tab is gone');
      for (const waiting of asked.values()) waiting.reject(left);
      asked.clear();
      send = () => {};
      link.close();
      gone();
    };
  }

  return (message) => {
    switch (message.kind) {
      case 'attach':
        return attach();
      case 'watch': {
        const locks = webLocks();
        if (locks && release) owned.push(whenReleased(locks, message.lock, () => release?.()));
        return;
      }
      case 'pong':
        missedPings = 0;
        return;
      case 'headers': {
        const waiting = asked.get(message.call);
        if (!waiting) return;
        asked.delete(message.call);
        if (message.headers) waiting.resolve(message.headers);
        else waiting.reject(new RealtimeError(message.error?.code ?? 'headers', message.error?.message ?? 'The headers provider failed', message.error?.status));
        return;
      }
      case 'detach':
        return release?.();
      default:
        if (!peer) return;
        try {
          peer.handle(message);
        } catch (error) {
          send({ kind: 'failed', error: toStatusError(error, 'invalid-options'), ...('sub' in message && { sub: message.sub }) });
        }
    }
  };
}
