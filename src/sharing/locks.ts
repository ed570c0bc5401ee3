/**
 * Web Locks, the only way to notice that a tab or a worker died: whoever holds a lock for its
 * life lets it go when it ends, however it ends, and whoever waits for it is then granted it.
 */

/** The Web Locks API where the platform has it (secure contexts only). */
export function webLocks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/** True where tabs can elect a leader: Web Locks and BroadcastChannel. */
export function canElectLeader(): boolean {
  return webLocks() !== undefined && typeof BroadcastChannel === 'function';
}

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

/**
 * Calls `gone` once whoever holds `name` lets it go: closed, crashed or terminated. Returns the
 * function that stops waiting.
 */
export function whenReleased(locks: LockManager, name: string, gone: () => void): () => void {
  const stop = new AbortController();
  locks.request(name, { signal: stop.signal }, () => gone()).catch(() => {});
  return () => stop.abort();
}

/** A random id for lock and tab names (`randomUUID` needs a secure context; Web Locks do too). */
export function randomId(): string {
  return globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2);
}
