/** Backoff settings, all required: see {@link BackoffOptions} for the defaults. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
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
