/**
 * The fixed limits the engine and the hub work by: not options, but documented (README) and
 * named here once. The page's first download does not carry them (the engine and the hub run in
 * the worker, or in chunks). Constants rather than one object, so that the minifier inlines them.
 */

/** A connection must stay open this long before the attempt count resets. */
export const STABLE_AFTER_MS = 5_000;
/**
 * An upstream whose last subscriber left with its page (a reload, the back/forward cache) closes
 * after this, so the page coming back finds it open. `close()` never waits.
 */
export const GRACE_MS = 3_000;
/** Characters of recent events a shared hub keeps per stream for tabs that come back behind it (1 MiB). */
export const CATCH_UP_CHARS = 1024 * 1024;
/** Fewest milliseconds between two requests after a clean end or an empty long-poll answer. */
export const MIN_RETRY_MS = 1_000;
/** A remembered downgrade to long-poll is tried again after this (10 min). */
export const DOWNGRADE_TTL_MS = 600_000;
/** A server that promises a prelude must send its first body byte within this. */
export const PRELUDE_TIMEOUT_MS = 5_000;
/** Changes of a topic stream's topics within this window are applied with one reconnect. */
export const TOPICS_DEBOUNCE_MS = 50;
/**
 * The SharedWorker flushes at most once per this many milliseconds per tab it serves (see the
 * hub's `flushGap`), up to {@link MAX_FLUSH_GAP_MS}: 20 tabs, 4 ms.
 */
export const FLUSH_GAP_PER_TAB_MS = 0.2;
export const MAX_FLUSH_GAP_MS = 8;
