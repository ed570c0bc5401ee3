import { MISSED_PINGS } from '../protocol/limits.js';
import type { Welcome } from '../protocol/tab-hub-messages.js';
import { webLocks, whenReleased } from './locks.js';

/** A hub being watched by a tab; see {@link watchHub}. */
export interface HubWatch {
  /** The hub pinged: it lives. */
  pinged(): void;
  /** Stops watching. */
  stop(): void;
}

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
  };
  if (welcome.lifeLock && locks) stopLock = whenReleased(locks, welcome.lifeLock, die);
  watch.pinged();
  return watch;
}
