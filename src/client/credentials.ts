import { RealtimeError, toStatusError } from '../protocol/errors.js';
import type { HeadersInit, HeadersLike, HeadersProvider, StatusError } from '../protocol/types.js';
import { credentialsKeyOf } from './credentials-key.js';
import { toHeaders } from './to-headers.js';

/** An answer kept for the next request (see `kept`) serves it if the hub asks this soon. */
const KEPT_ANSWER_FRESH_MS = 10_000;

/** A client's credentials: what names them, and the headers the hub asks for before each attempt. */
export interface Credentials {
  /** The fixed headers, checked and as plain data (a `Headers` instance does not cross to a worker). */
  readonly fixed?: HeadersInit;
  /**
   * The credentials key: the explicit one, or a key of the fixed headers or of the provider's
   * first answer (which is kept for the first request). A provider that fails is asked again
   * after a backoff, each wait reported through `waiting`; fixed headers that are not headers
   * reject with `invalid-options`.
   */
  key(waiting: (attempt: number, retryInMs: number, error: StatusError) => void): Promise<string>;
  /**
   * Headers for the hub's next attempt on the stream keyed `current`. An answer of other
   * credentials (a logout and login in this tab) calls `moved(key)` and rejects: it is never used
   * for the stream it was asked for.
   */
  forHub(current: string, moved: (key: string) => void): Promise<HeadersInit>;
  /** The client closed: the waits end now, and what still waits on them rejects. */
  stop(): void;
}

/**
 * The credentials of a client with a `headers` option: loaded as a chunk of its own, since a
 * client without headers (cookie auth, a public stream) needs none of this.
 */
export function createCredentials(
  headers: HeadersLike | HeadersProvider,
  headersTimeoutMs: number,
  /** The wait before retry number `attempt` of a failing provider (the stream's backoff). */
  retryDelay: (attempt: number) => number,
  credentialsKey?: string,
): Credentials {
  const provider = typeof headers === 'function' ? headers : undefined;
  let fixed: HeadersInit | undefined;
  /** Fixed headers that are not headers: a mistake in the options, nothing to retry. */
  let invalid: RealtimeError | undefined;
  if (!provider) {
    try {
      fixed = toHeaders(headers);
    } catch (error) {
      invalid = new RealtimeError('invalid-options', `ssemux: headers: ${(error as Error).message}`);
    }
  }
  /**
   * An answer the provider already gave, kept for the next request so that it is asked once per
   * attempt: the start-up answer (which named the credentials), or the answer that moved this
   * client to another stream (a rotating token would otherwise move it again at every ask).
   */
  let kept: { headers: HeadersInit; at: number } | undefined;

  /** Ends every wait (a start-up retry, a provider's time limit) when the client closes. */
  const stopped = new AbortController();

  /** Resolves after `ms`, or rejects with `error` then; rejects at once on stop. `done` ends it early. */
  function wait(ms: number, error?: RealtimeError): { until: Promise<void>; done(): void } {
    let done = () => {};
    const until = new Promise<void>((resolve, reject) => {
      if (stopped.signal.aborted) return reject(stopped.signal.reason);
      const timer = setTimeout(() => (done(), error ? reject(error) : resolve()), ms);
      const stop = () => (done(), reject(stopped.signal.reason));
      stopped.signal.addEventListener('abort', stop);
      done = () => {
        clearTimeout(timer);
        stopped.signal.removeEventListener('abort', stop);
      };
    });
    return { until, done };
  }

  /** Calls the provider once, within `headersTimeoutMs`, and checks its answer. */
  async function ask(): Promise<HeadersInit> {
    const limit = wait(headersTimeoutMs, new RealtimeError('headers', `The headers provider did not answer within ${headersTimeoutMs} ms (headersTimeoutMs)`));
    try {
      return toHeaders(await Promise.race([Promise.resolve().then(provider!), limit.until]));
    } catch (error) {
      throw error instanceof RealtimeError ? error : new RealtimeError('headers', `The headers provider failed: ${toStatusError(error).message}`);
    } finally {
      limit.done();
    }
  }

  return {
    fixed,
    async key(waiting) {
      if (invalid) throw invalid;
      if (credentialsKey !== undefined) return credentialsKey;
      if (!provider) return credentialsKeyOf(fixed!);
      // Without an answer the credentials have no name, and sharing without one could mix users.
      for (let attempt = 1; ; attempt++) {
        try {
          const first = await ask();
          kept = { headers: first, at: Date.now() };
          return credentialsKeyOf(first);
        } catch (error) {
          const retryInMs = retryDelay(attempt);
          waiting(attempt, retryInMs, toStatusError(error, 'headers'));
          await wait(retryInMs).until;
        }
      }
    },
    async forHub(current, moved) {
      const cached = kept;
      kept = undefined;
      const answer = cached && Date.now() - cached.at < KEPT_ANSWER_FRESH_MS ? cached.headers : await ask();
      if (credentialsKey === undefined) {
        const key = credentialsKeyOf(answer);
        if (key !== current) {
          kept = { headers: answer, at: Date.now() };
          moved(key);
          throw new RealtimeError('headers', 'The credentials of this client changed: it moved to their stream');
        }
      }
      return answer;
    },
    stop: () => stopped.abort(),
  };
}
