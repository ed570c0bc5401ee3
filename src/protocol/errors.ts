import type { StatusError } from './types.js';

/**
 * Every reason ssemux reports a problem.
 * - `network`: the request failed or the stream broke; retried.
 * - `http`: a status that is retried (5xx, 408, 429) or fatal (other 4xx); see `status`.
 * - `unauthorized`: 401; the headers provider is asked again.
 * - `content-type`: a 200 that is not `text/event-stream`; fatal.
 * - `no-content`: 204, the server's "stop"; the stream closes for good.
 * - `heartbeat-timeout`: no byte for `heartbeatTimeoutMs`; retried.
 * - `event-too-large`: an event over `maxEventSize` was dropped; the stream goes on.
 * - `parse`: `parse` threw for an event; its listeners were not called.
 * - `invalid-options`: `createRealtimeClient` was given something it cannot use.
 * - `sharing-unavailable`: the asked-for sharing mode could not start.
 * - `protocol-mismatch`: the worker speaks another protocol version.
 * - `buffered-stream`: a proxy holds the stream back; the client moved to long-poll.
 * - `headers`: the headers provider threw, did not answer in time, or gave something that is not
 *   headers; retried. A header that no request can carry (a value outside Latin-1, such as a
 *   provider's token, or a name that is not a token) closes the stream: every request would fail alike.
 * - `unsupported`: the transport cannot run on this platform; `auto` moved on to the next.
 * - `gap`: the server could not replay from where the stream stood: events may be missing.
 * - `connection-limit`: the stream waits for a free connection (see `maxConnections`).
 * - `forbidden`: the server refused some topics of this client (`ssemux:denied`); the others flow.
 */
export type RealtimeErrorCode =
  | 'network'
  | 'http'
  | 'unauthorized'
  | 'content-type'
  | 'no-content'
  | 'heartbeat-timeout'
  | 'event-too-large'
  | 'parse'
  | 'invalid-options'
  | 'sharing-unavailable'
  | 'protocol-mismatch'
  | 'buffered-stream'
  | 'headers'
  | 'unsupported'
  | 'gap'
  | 'connection-limit'
  | 'forbidden';

/** The one error class of ssemux. Crosses worker boundaries as a plain {@link StatusError}. */
export class RealtimeError extends Error {
  // Declared, and assigned in the constructor: class fields compile into helpers for a 2020 target.
  declare readonly name: 'RealtimeError';
  declare readonly code: RealtimeErrorCode;
  declare readonly status?: number;

  constructor(code: RealtimeErrorCode, message: string, status?: number) {
    super(message);
    Object.assign(this, { name: 'RealtimeError', code }, status !== undefined && { status });
  }

  /** The cloneable form: structured clone drops an Error's own fields. */
  toJSON(): StatusError {
    return toStatusError(this);
  }
}

/**
 * True for a {@link RealtimeError}, including one that crossed a worker boundary and arrived as
 * a plain object (as `status.error` always is): `instanceof` alone fails there, and such an object
 * has the error's fields, not its methods.
 */
export function isRealtimeError(value: unknown): value is RealtimeError | (StatusError & { name: 'RealtimeError' }) {
  const v = value as Partial<RealtimeError> | null;
  return v instanceof RealtimeError || (v?.name === 'RealtimeError' && typeof v.code === 'string' && typeof v.message === 'string');
}

/** A {@link StatusError} from anything thrown: plain data, which survives `postMessage` and JSON as an `Error` does not. */
export function toStatusError(error: unknown, fallback: RealtimeErrorCode = 'network'): StatusError {
  if (!isRealtimeError(error)) return { code: fallback, message: error instanceof Error ? error.message : String(error) };
  const { code, message, status } = error;
  return { name: 'RealtimeError', code, message, ...(status !== undefined && { status }) };
}
