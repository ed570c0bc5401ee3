/**
 * Web Locks, the only way to notice that a tab or a worker died: whoever holds a lock for its
 * life lets it go when it ends, however it ends, and whoever waits for it is then granted it.
 */

/** The Web Locks API where the platform has it (secure contexts only). */
export function webLocks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/**
 * Takes `name` for the life of this realm (a tab, a worker): resolves true once held, false when
 * the platform refuses (no Web Locks, an opaque origin). Others notice the realm's end by it.
 */
export function holdForLife(locks: LockManager | undefined, name: string): Promise<boolean> {
  return new Promise((held) => {
    if (!locks) return held(false);
    locks.request(name, () => (held(true), new Promise(() => {}))).catch(() => held(false));
  });
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
