/**
 * Web Locks, the only way to notice that a tab or a worker died: whoever holds a lock for its
 * life lets it go when it ends, however it ends, and whoever waits for it is then granted it.
 */

/** The Web Locks API where the platform has it (secure contexts only). */
export function webLocks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/** What the life lock of every SharedWorker of the release `namespace` is named with, then an id. */
export const workerLockPrefix = (namespace: string) => `${namespace}:worker:`;

/** A lock held (or asked for) until `release()`. */
export interface HeldLock {
  /** True once held; false when the platform refuses (no Web Locks, an opaque origin) or it was released first. */
  readonly held: Promise<boolean>;
  /** Lets the lock go, or withdraws the request if it is not held yet. */
  release(): void;
}

/** Takes `name` until `release()` (a tab's life, a leader's term, a candidacy); other requests for it queue behind. */
export function holdLock(locks: LockManager | undefined, name: string): HeldLock {
  const withdraw = new AbortController();
  let letGo: (() => void) | undefined;
  const held = new Promise<boolean>((resolve) => {
    if (!locks) return resolve(false);
    locks
      .request(name, { signal: withdraw.signal }, () => (resolve(true), new Promise<void>((done) => (letGo = done))))
      .catch(() => resolve(false));
  });
  return {
    held,
    release() {
      withdraw.abort();
      letGo?.();
    },
  };
}

/**
 * Calls `gone` once whoever holds `name` lets it go: closed, crashed or terminated. Returns the
 * function that stops waiting.
 */
export function whenReleased(locks: LockManager, name: string, gone: () => void): () => void {
  const stop = new AbortController();
  locks.request(name, { signal: stop.signal }, () => gone()).catch(() => {});
  return () => stop.abort();
}
