import { RealtimeError } from '../protocol/errors.js';
import type { HeadersInit } from '../protocol/types.js';

/** A headers provider the hub may ask: a subscriber's tab. May reject, or never settle (a dead tab). */
export type HeadersSource = () => Promise<HeadersInit>;

/**
 * Asks `sources` for headers, the first first. A source that does not answer within `staggerMs`
 * (a hung provider, a busy or frozen tab) is not waited for alone: the next one is asked too,
 * and the first answer wins. Resolves with the headers and the index of the source that gave
 * them; rejects after `timeoutMs` without an answer, or with the last refusal once all refused.
 */
export function askHeaders(sources: readonly HeadersSource[], timeoutMs: number, staggerMs: number): Promise<[headers: HeadersInit, from: number]> {
  return new Promise((resolve, reject) => {
    let asked = 0;
    let refused = 0;
    let done = false;
    let stagger: ReturnType<typeof setTimeout> | undefined;
    const deadline = setTimeout(
      () => settle(() => reject(new RealtimeError('headers', `The headers provider did not answer within ${timeoutMs} ms (headersTimeoutMs)`))),
      timeoutMs,
    );
    function settle(then: () => void): void {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(stagger);
      then();
    }
    function askNext(): void {
      if (done || asked >= sources.length) return;
      const index = asked++;
      clearTimeout(stagger);
      stagger = setTimeout(askNext, staggerMs);
      sources[index]!().then(
        (headers) => settle(() => resolve([headers, index])),
        (error: unknown) => {
          if (++refused === sources.length) settle(() => reject(error));
          else askNext();
        },
      );
    }
    askNext();
  });
}
