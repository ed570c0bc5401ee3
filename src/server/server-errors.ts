/**
 * The errors of `ssemux/server` that an application tells apart: one it throws (to answer `401`),
 * one `publish()` rejects with, and the notices `onError` gets about the store.
 */

/**
 * Thrown by `authenticate` for a request whose credentials are missing, expired or invalid:
 * answered `401` with `WWW-Authenticate`, so the client asks for fresh ones (any other throw is
 * answered `500`).
 *
 * @example
 * authenticate: (req) => {
 *   try {
 *     return jwt.verify(bearerOf(req), key).sub;
 *   } catch (error) {
 *     throw new AuthenticationError('invalid token', { cause: error });
 *   }
 * }
 */
export class AuthenticationError extends Error {
  constructor(message = 'not authenticated', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthenticationError';
  }
}

/** Why `publish()` gave up. */
export type PublishFailure = 'timeout' | 'too-many-pending' | 'store-failed';

/**
 * `publish()` could not confirm that the event is stored: the store did not answer within
 * `publishTimeoutMs` (`timeout`), `maxPendingPublishes` were already waiting for it
 * (`too-many-pending`), or it failed (`store-failed`, the store's error as `cause`). After a
 * `timeout` or a `store-failed` whose connection dropped mid-call, the event may still be in the
 * log; it is never stored after an event published later.
 */
export class PublishError extends Error {
  readonly reason: PublishFailure;
  constructor(reason: PublishFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublishError';
    this.reason = reason;
  }
}

/**
 * Handed to `onError` once when the store becomes unavailable (`available: false`, with the
 * store's error as `cause`) and once when it is back (`available: true`, `downMs` set). Meanwhile
 * new requests are answered `503` and `publish()` fails fast; open streams stay open and resume
 * exactly when the store is back (a stream whose events the store lost ends, and its client
 * resumes with `ssemux:reset`).
 */
export class StoreOutageError extends Error {
  readonly available: boolean;
  /** How long the store was unavailable, when `available`. */
  readonly downMs: number | undefined;
  constructor(available: boolean, options: { cause?: unknown; downMs?: number } = {}) {
    super(
      available
        ? `the event store is available again after ${((options.downMs ?? 0) / 1000).toFixed(1)} s`
        : `the event store is unavailable: ${describe(options.cause)}`,
      { cause: options.cause },
    );
    this.name = 'StoreOutageError';
    this.available = available;
    this.downMs = available ? options.downMs : undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error ?? 'no reason given');
}
