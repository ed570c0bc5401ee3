/** Web Locks held for a while (a leader's term, a candidacy); see ./locks.ts for the rest. */

/** A lock held (or asked for) until `release()`. */
export interface HeldLock {
  /** True once held; false when the request failed (an opaque origin throws SecurityError) or was released first. */
  readonly held: Promise<boolean>;
  /** Lets the lock go, or withdraws the request if it is not held yet. */
  release(): void;
}

/** Takes `name` until `release()`; other requests for it queue behind. */
export function holdLock(locks: LockManager, name: string): HeldLock {
  const withdraw = new AbortController();
  let letGo!: () => void;
  const done = new Promise<void>((resolve) => (letGo = resolve));
  const held = new Promise<boolean>((resolve) => {
    locks
      .request(name, { signal: withdraw.signal }, () => {
        resolve(true);
        return done;
      })
      .catch(() => resolve(false));
  });
  return {
    held,
    release() {
      withdraw.abort();
      letGo();
    },
  };
}
