import { RealtimeError } from '../../protocol/errors.js';
import type { ResolvedTransport, TransportKind } from '../../protocol/types.js';
import { eventSourceTransport } from './eventsource-transport.js';
import { fetchTransport } from './fetch-transport.js';
import { longPollTransport } from './long-poll-transport.js';
import type { Transport } from './transport.js';

declare const __SSEMUX_XHR__: boolean;
/**
 * The XHR transport is in this build (a lazy chunk of the page builds). The SharedWorker's build
 * leaves it out: in a worker, a browser without fetch streams still has EventSource and
 * long-poll, and a client that asks for `polyfill` runs its stream in the page.
 */
const WITH_XHR = typeof __SSEMUX_XHR__ !== 'boolean' || __SSEMUX_XHR__;

/** What the current global scope can do; a function so tests and fallbacks see changes. */
export function platformSupport(scope: typeof globalThis = globalThis) {
  const s = scope as unknown as Record<string, { prototype?: object } | undefined>;
  const fetch = typeof s.fetch === 'function';
  return {
    fetchStream: fetch && 'body' in (s.Response?.prototype ?? {}) && 'getReader' in (s.ReadableStream?.prototype ?? {}),
    fetch,
    eventSource: typeof s.EventSource === 'function',
    xhr: WITH_XHR && typeof s.XMLHttpRequest === 'function',
  };
}

/**
 * Transports to try, best first. `auto` walks fetch streaming, the native EventSource (only when
 * no custom header or body is needed: it cannot send them), the XHR polyfill, then long-poll.
 * An explicit choice is honoured as it is.
 */
export function transportOrder(
  kind: TransportKind,
  needs: { headers: boolean; post: boolean },
  support = platformSupport(),
): ResolvedTransport[] {
  if (kind !== 'auto') return [kind];
  const order: ResolvedTransport[] = [];
  if (support.fetchStream) order.push('fetch');
  if (support.eventSource && !needs.headers && !needs.post) order.push('eventsource');
  if (support.xhr) order.push('polyfill');
  if (support.fetch) order.push('long-poll');
  return order.length ? order : ['long-poll'];
}

/** The transport's code; the XHR polyfill is its own chunk, fetched only when chosen. */
export async function loadTransport(kind: ResolvedTransport): Promise<Transport> {
  switch (kind) {
    case 'fetch':
      return fetchTransport;
    case 'eventsource':
      return eventSourceTransport;
    case 'long-poll':
      return longPollTransport;
    case 'polyfill':
      // Never chosen where it is left out: `auto` does not list it, and options refuse it there.
      if (!WITH_XHR) throw new RealtimeError('unsupported', 'No XHR transport here');
      return (await import('./xhr-transport.js')).xhrTransport;
  }
}
