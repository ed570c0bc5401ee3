import type { ParseOption, SharingMode, TransportKind } from './types.js';

/** Every default of {@link RealtimeClientOptions}. */
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
  /** @default true */
  earlyStream: true as boolean,
  /** @default false */
  debug: false as boolean | ((message: string, detail?: unknown) => void),
} as const;
