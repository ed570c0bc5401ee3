import type { ParseOption, SharingMode, TransportKind } from './types.js';

/** Every default of {@link RealtimeClientOptions}, and the fixed limits the runtime works by. */
export const DEFAULTS = {
  /** @default 'auto' */
  sharing: 'auto' as SharingMode,
  /** @default 'auto' */
  transport: 'auto' as TransportKind,
  /** @default false */
  withCredentials: false,
  /** @default 'json' */
  parse: 'json' as ParseOption,
  /** @default { initialMs: 1000, maxMs: 30000, factor: 2 } */
  backoff: { initialMs: 1000, maxMs: 30_000, factor: 2 },
  /** @default 45000 */
  heartbeatTimeoutMs: 45_000,
  /** @default 10000 */
  headersTimeoutMs: 10_000,
  /** @default 4 */
  maxConnections: 4,
  /** @default 1048576 (1 MiB) */
  maxEventSize: 1024 * 1024,
  /** @default 'GET' */
  method: 'GET' as 'GET' | 'POST',
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

/** The longest delay `setTimeout` can hold (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay `setTimeout` can hold: longer ones are cut to {@link MAX_TIMER_MS}, NaN and negatives to 0. */
export function clampDelay(ms: number): number {
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms > 0 ? ms : 0;
}
