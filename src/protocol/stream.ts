import type { HeadersInit, ResolvedTransport, RealtimeStatus, TransportKind } from './types.js';

/**
 * Everything the hub needs to open one upstream. Plain data: it crosses into the worker.
 * Streams with equal {@link streamKey} share one connection.
 */
export interface StreamSpec {
  /** Absolute URL. */
  url: string;
  transport: TransportKind;
  withCredentials: boolean;
  /** Identity of the credentials; `''` for none. Part of the key, so users never share. */
  credentialsKey: string;
  backoff: { initialMs: number; maxMs: number; factor: number };
  heartbeatTimeoutMs: number;
  maxEventSize: number;
  method: 'GET' | 'POST';
  body?: string;
  /** Fixed headers; when a provider exists the hub asks a subscriber for headers instead. */
  headers?: HeadersInit;
  /** True when some subscriber owns a headers provider the hub must call before every attempt. */
  dynamicHeaders: boolean;
}

/** Identity of a stream: two specs with the same key share one upstream. */
export function streamKey(spec: StreamSpec): string {
  return JSON.stringify([
    spec.url,
    spec.transport,
    spec.withCredentials,
    spec.credentialsKey,
    spec.method,
    spec.body ?? null,
  ]);
}

/** Status as the engine knows it; the sharing mode is added by the client. */
export type ConnectionStatus = Omit<RealtimeStatus, 'sharing' | 'transport'> & {
  transport: ResolvedTransport;
};

/**
 * The types a subscriber listens to; `'*'` among them means every type. The other names still
 * matter then: the native EventSource reports only types someone named.
 */
export type TypeFilter = readonly string[];
