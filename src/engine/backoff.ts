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

/**
 * Seconds or an HTTP date from a `Retry-After` header, as milliseconds from `now`; `undefined`
 * when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form starts with a day name; Date.parse alone reads "1.5" or "-1" as dates in 2001.
  if (!/^[A-Za-z]/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
