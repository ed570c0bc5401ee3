/**
 * Waits, the few rules every wait follows: what `setTimeout` can hold, and the backoff between
 * attempts. Shared by the engine and the client's credentials (which retry a failing provider).
 */

/** Backoff settings, all required: see {@link BackoffOptions} for the defaults. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}

/** The longest delay `setTimeout` can hold (2^31 - 1 ms, about 24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay `setTimeout` can hold: longer ones are cut to {@link MAX_TIMER_MS}, NaN and negatives to 0. */
export function clampDelay(ms: number): number {
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms > 0 ? ms : 0;
}

/**
 * Wait before reconnection attempt `attempt` (1 for the first retry): "full jitter", a uniform
 * draw between 0 and an exponential ceiling capped at `maxMs`. Full jitter spreads a crowd of
 * clients that lost the same server, so they do not all come back in the same instant.
 * `random` is injectable so tests can pin the draw.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** Math.max(0, attempt - 1));
  return Math.round(ceiling * random());
}
