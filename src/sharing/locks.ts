/** The Web Locks API where the platform has it: the only way to notice that a tab or worker died. */
export function webLocks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}

/** Takes `name` for the rest of this realm's life; resolves once it is held. */
export function holdForever(locks: LockManager, name: string): Promise<void> {
  return new Promise((held) => {
    void locks.request(name, () => {
      held();
      return new Promise<never>(() => {});
    });
  });
}

/** Calls `gone` once whoever holds `name` lets it go: closed, crashed or terminated. */
export function whenReleased(locks: LockManager, name: string, gone: () => void): void {
  void locks.request(name, () => gone());
}

/** A random id for lock and tab names. */
export function randomId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
