import type { Hub, HubPeer } from '../hub/hub.js';
import type { DataMessage, HubControl, TabControl, Welcome } from '../protocol/messages.js';
import { encodeFrames } from './encode-frames.js';
import { webLocks, whenReleased } from './locks.js';
import type { Remote } from './rpc.js';

/** How the hub reaches one tab: data one way, the tab's control the other. */
export interface TabChannel {
  post(message: DataMessage): void;
  tab: Remote<TabControl>;
  /** Frees the ports or channels, and settles calls to the tab still waiting; the tab is gone or left. */
  close(): void;
}

/** Without Web Locks, the hub pings each tab this often and lets a tab go after three silent pings. */
export const PING_MS = 5_000;

/**
 * The hub's side of one tab ({@link HubControl}), for the SharedWorker and the leader alike.
 * `open` makes the tab's channel when it attaches; `gone` runs once the tab has left
 * or died and everything of it was let go.
 */
export function createHubControl(
  hub: Hub,
  welcome: Promise<Welcome>,
  open: () => TabChannel,
  gone: () => void = () => {},
): HubControl {
  let peer: HubPeer | undefined;
  let release: (() => void) | undefined;
  /** What this tab's connection holds open: a lock wait, a ping timer. Ended on release. */
  const owned: (() => void)[] = [];
  let missed = 0;

  return {
    attach() {
      if (peer) return;
      const channel = open();
      // The welcome goes first: a tab reads no frame before it knows the hub speaks its protocol,
      // and a first tab's welcome waits for the worker's life lock, which can come after the upstream.
      let held: DataMessage[] | undefined = [];
      peer = hub.attach({
        deliver: (frames) => {
          const message = { frames: encodeFrames(frames) };
          held ? held.push(message) : channel.post(message);
        },
        headers: (sub) => channel.tab.headers(sub),
      });
      void welcome.then((w) => {
        if (!release) return;
        channel.post({ welcome: w });
        for (const message of held!) channel.post(message);
        held = undefined;
        const pingMs = w.pingMs;
        // Nothing else tells a dead tab where the hub has no Web Locks (plain-http origins).
        if (!pingMs) return;
        const timer = setInterval(() => {
          if (++missed > 3) release?.();
          else channel.post({ ping: pingMs });
        }, pingMs);
        owned.push(() => clearInterval(timer));
      });
      release = () => {
        const current = peer;
        peer = release = undefined;
        current?.detach();
        for (const end of owned.splice(0)) end();
        channel.close();
        gone();
      };
    },
    watch(tabLock) {
      const locks = webLocks();
      if (locks && release) owned.push(whenReleased(locks, tabLock, () => release?.()));
    },
    subscribe: (request) => peer?.subscribe(request),
    update: (sub, filter, position) => peer?.update(sub, filter, position),
    unsubscribe: (sub, grace) => peer?.unsubscribe(sub, grace),
    detach: () => release?.(),
    pong() {
      missed = 0;
    },
  };
}
