import type { ParseOption, SharingMode, TransportKind } from './types.js';

/** Every default of {@link RealtimeClientOptions}, in one place. */
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
  /** @default 1048576 (1 MiB) */
  maxEventSize: 1024 * 1024,
  /** @default 'GET' */
  method: 'GET' as 'GET' | 'POST',
  /** A connection must stay open this long before the attempt count resets. @default 5000 */
  stableAfterMs: 5_000,
  /** An upstream with no subscriber left closes after this, so a reload does not reopen it. @default 3000 */
  graceMs: 3_000,
} as const;
