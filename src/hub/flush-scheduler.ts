/** When a hub's flushes run; see {@link createFlushScheduler}. */
export interface FlushScheduler {
  /** A flush is wanted: one runs after the current task, or after the gap, whichever is later. Once however often asked. */
  request(): void;
  /** No flush runs any more. */
  close(): void;
}

/**
 * Runs `flush` once per request burst: after the current task (`schedule`), and no sooner than
 * `gap(lastFlushMs)` milliseconds after the previous flush began (`lastFlushMs`: how long that
 * one took), so that a busy stream costs each tab a message per gap rather than one per network
 * read. A gap of 0 flushes after every task that asked; a hub in a hidden tab must keep 0, its
 * timers being throttled.
 */
export function createFlushScheduler(flush: () => void, schedule: (run: () => void) => void, gap: (lastFlushMs: number) => number): FlushScheduler {
  let queued = false;
  let closed = false;
  let lastFlush = -Infinity;
  let lastFlushMs = 0;
  let gapTimer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    if (closed) return;
    queued = false;
    lastFlush = performance.now();
    flush();
    lastFlushMs = performance.now() - lastFlush;
  };
  return {
    request() {
      if (queued || closed) return;
      queued = true;
      const ms = gap(lastFlushMs);
      // A monotonic clock: the wall clock may step back.
      const wait = ms && lastFlush + ms - performance.now();
      if (wait > 0) gapTimer = setTimeout(run, wait);
      else schedule(run);
    },
    close() {
      closed = true;
      clearTimeout(gapTimer);
    },
  };
}
