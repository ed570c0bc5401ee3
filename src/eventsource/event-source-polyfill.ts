import { RealtimeError, type StatusError } from '../index.js';
import { CLIENT_OPTIONS, SharedEventSource, type SharedEventSourceInit } from './shared-event-source.js';

/**
 * The options of event-source-polyfill (`new EventSourcePolyfill(url, options)`), over
 * {@link SharedEventSourceInit}.
 */
export interface EventSourcePolyfillInit extends SharedEventSourceInit {
  /**
   * No byte at all (not even a comment) for this long: the connection is dead and is remade, with
   * an `error` event. Counted from the moment the request is sent, as event-source-polyfill
   * counts it. Tabs with another value never share a stream. @default 45000
   */
  heartbeatTimeout?: number;
  /**
   * Ignored. event-source-polyfill resumes by adding `<name>=<last id>` to the query; ssemux
   * resumes with the `Last-Event-ID` header (fetch, XHR and long-poll transports) or a `lastEventId` query
   * parameter (the native transport), whatever this says: a server that reads the resume point
   * only from a query parameter of another name starts over after a reconnection.
   */
  lastEventIdQueryParameterName?: string;
  /** Ignored: ssemux chooses its transport (see `transport`); an XHR class cannot travel to a SharedWorker. */
  Transport?: unknown;
}

/**
 * event-source-polyfill's `EventSourcePolyfill` (Yaffle's), over one stream shared by every tab:
 * the same constructor and options (`headers`, `withCredentials`, `heartbeatTimeout`), and its
 * events: `open` carries `status` (200), `statusText` and `headers`; an `error` for a response
 * that is not a 200 event stream carries its `status` (e.g. 401, to refresh a token) with
 * `readyState` `CLOSED`; an `error` of a broken connection carries `error` and is followed by a
 * reconnection. Everything else is {@link SharedEventSource}'s.
 *
 * Differences from event-source-polyfill, by design: reconnections wait with exponential backoff
 * and jitter from 1 s (the polyfill doubles from 1 s up to 16 s, without jitter) and never less
 * than 1 s after a clean end; `statusText` and `headers` of a failed response are not known
 * (the shared stream's client reports the status only): `statusText` is `''` and `headers` is
 * empty; `lastEventIdQueryParameterName` and `Transport` are ignored (see them).
 */
export class EventSourcePolyfill extends SharedEventSource {
  /** Opens the stream at `url`, as `new EventSourcePolyfill(url, options)` does. */
  constructor(url: string | URL, init?: EventSourcePolyfillInit | null) {
    // null is no options, as for the platform's EventSource and the original polyfill.
    const { heartbeatTimeout, lastEventIdQueryParameterName: _name, Transport: _transport, ...rest } = init ?? {};
    super(url, heartbeatTimeout === undefined ? rest : Object.assign(rest, { [CLIENT_OPTIONS]: { heartbeatTimeoutMs: heartbeatTimeout } }));
  }

  /** The polyfill's events for a response carry it: `status`, `statusText`, `headers`. */
  protected override connectionEvent(type: 'open' | 'error', error?: StatusError): Event {
    const event = super.connectionEvent(type);
    if (type === 'open') return Object.assign(event, { status: 200, statusText: 'OK', headers: new Headers({ 'content-type': 'text/event-stream' }) });
    if (error?.status !== undefined) return Object.assign(event, { status: error.status, statusText: '', headers: new Headers() });
    return Object.assign(event, { error: error && new RealtimeError(error.code, error.message) });
  }
}
