/**
 * The fixed limits the engine and the hub work by: not options, but documented (README) and
 * named here once. The page's first download does not carry them (the engine and the hub run in
 * the worker, or in chunks).
 */
export const LIMITS = {
  /** A connection must stay open this long before the attempt count resets. @default 5000 */
  stableAfterMs: 5_000,
  /**
   * An upstream whose last subscriber left with its page (a reload, the back/forward cache)
   * closes after this, so the page coming back finds it open. `close()` never waits. @default 3000
   */
  graceMs: 3_000,
  /** Characters of recent events a shared hub keeps per stream for tabs that come back behind it. @default 1048576 */
  catchUpChars: 1024 * 1024,
  /** Fewest milliseconds between two requests after a clean end or an empty long-poll answer. @default 1000 */
  minRetryMs: 1_000,
  /** A remembered downgrade to long-poll is tried again after this. @default 600000 (10 min) */
  downgradeTtlMs: 600_000,
  /** A server that promises a prelude must send its first body byte within this. @default 5000 */
  preludeTimeoutMs: 5_000,
  /** Changes of a topic stream's topics within this window are applied with one reconnect. @default 50 */
  topicsDebounceMs: 50,
} as const;
