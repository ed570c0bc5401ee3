import { MISSED_PINGS } from '../protocol/limits.js';
import type { HubMessage, Welcome } from '../protocol/tab-hub-messages.js';
import { webLocks, whenReleased } from './locks.js';

/** A hub being watched by a tab; see {@link watchHub}. */
export interface HubWatch {
  /** The hub pinged: it lives. */
  pinged(): void;
  /** Stops watching. */
  stop(): void;
  /**
   * Hands `message` to `receive`, in order, while the hub lives. A go for one-events is handed on
   * only once the hub is known to live: a tab busy when its hub died finds that go in its queue
   * before it hears of the death, and the next hub hands those events out again.
   */
  read(message: HubMessage, receive: (message: HubMessage) => void): void;
}

/** Whether `message` lets the tab run one-events. */
const lets = (message: HubMessage) => message.kind === 'frames' && message.frames.some((frame) => 'oneGo' in frame && frame.oneGo !== undefined);

/**
 * Watches the hub that sent `welcome`, and calls `dead` once when it is gone: when its life lock
 * is granted to this tab (it closed, crashed or was terminated), or, where there are no Web Locks,
 * when it has not pinged for {@link MISSED_PINGS} intervals.
 */
export function watchHub(welcome: Welcome, dead: () => void): HubWatch {
  const locks = webLocks();
  let silence: ReturnType<typeof setTimeout> | undefined;
  let stopLock: (() => void) | undefined;
  let done = false;
  /** Messages behind a go whose hub is being checked. */
  let checking: Promise<void> | undefined;
  let behind = 0;
  // The lock manager grants the life lock (the death) before it answers a query asked after it.
  const alive = () => Promise.resolve(welcome.lifeLock && locks?.query?.()).then(() => !done, () => !done);
  const die = () => {
    if (done) return;
    watch.stop();
    dead();
  };
  const watch: HubWatch = {
    pinged() {
      if (!welcome.pingMs || done) return;
      clearTimeout(silence);
      silence = setTimeout(die, welcome.pingMs * MISSED_PINGS);
    },
    stop() {
      done = true;
      clearTimeout(silence);
      stopLock?.();
    },
    read(message, receive) {
      if (done) return;
      if (!checking && !lets(message)) return receive(message);
      behind++;
      checking = (checking ?? Promise.resolve()).then(async () => {
        const live = await (lets(message) ? alive() : !done);
        if (!--behind) checking = undefined;
        // Thrown out of this chain, so that the messages behind are still read.
        if (live) queueMicrotask(() => receive(message));
      });
    },
  };
  if (welcome.lifeLock && locks) stopLock = whenReleased(locks, welcome.lifeLock, die);
  watch.pinged();
  return watch;
}
