import type { HeadersInit, WireEvent } from '../../protocol/types.js';

/** One HTTP request of a connection. */
export interface TransportRequest {
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  /** Includes `Accept` and, on a resumption, `Last-Event-ID`. */
  headers: HeadersInit;
  withCredentials: boolean;
  lastEventId: string;
  signal: AbortSignal;
  /** Event types someone listens to: only the native EventSource needs them. */
  eventTypes: ReadonlySet<string>;
}

/**
 * What a transport reports, in this order: one `response`, then `text` (or, for the native
 * EventSource that parses by itself, `event`), then one of `end` or `error`. Nothing after
 * the signal aborts.
 */
export interface TransportSink {
  /** Status line and headers arrived; `header` reads one. Returns false when the body should not be read. */
  response(status: number, header: (name: string) => string | null): boolean;
  /** Decoded body text (UTF-8, one BOM stripped per response). */
  text(chunk: string): void;
  /** An event parsed by the platform (native EventSource only). */
  event(event: WireEvent): void;
  /** The body ended normally. `recycle`: the transport wants a fresh request at once (long-poll, a full XHR buffer). */
  end(recycle: boolean): void;
  error(error: unknown): void;
}

/** Opens one request. Returns a function that starts listening to a newly named event type, where the transport needs it. */
export type Transport = (request: TransportRequest, sink: TransportSink) => ((type: string) => void) | void;
