import { createRealtimeClient, type RealtimeClient, type RealtimeClientOptions, type RealtimeStatus, type SharingMode, type StatusError, type TransportKind } from '../index.js';
import { baseUrl } from '../protocol/base-url.js';

/**
 * The second argument of {@link SharedEventSource}: the platform's `EventSourceInit` (which holds
 * `withCredentials`) and what ssemux adds. Every field is optional: `new SharedEventSource(url)`
 * behaves as `new EventSource(url)` does.
 */
export interface SharedEventSourceInit extends EventSourceInit {
  /**
   * Headers for every request (an object, a `Headers`, `[name, value]` pairs), or a function that
   * returns them (async too), called before every connection attempt. The platform's
   * EventSource cannot send headers at all. Tabs with other headers never share a stream. A 401
   * fails the source as any answer but a 200 event stream does (`EventSourcePolyfill`'s `error`
   * event says which status): to go on with a fresh token, make a new source.
   */
  headers?: RealtimeClientOptions['headers'];
  /**
   * Stable same-origin URL of `ssemux/worker` (dist/ssemux-worker.js): with it, tabs share one
   * stream through a SharedWorker; without it, through leader election.
   */
  workerUrl?: string | URL;
  /** How tabs share the stream. @default 'auto' */
  sharing?: SharingMode;
  /** How the bytes travel. @default 'auto' */
  transport?: TransportKind;
  /** Topics to read from a server of the ssemux protocol (`ssemux/server`); see the README. */
  topics?: readonly string[];
}

/** What an `on…` attribute holds, as the platform's EventSource types it. */
type Handler<E extends Event> = ((this: EventSource, ev: E) => any) | null;

/** The state of one source, kept out of the instance so that it shows only the EventSource's members. */
interface Internals {
  url: string;
  withCredentials: boolean;
  state: number;
  /** Origin of the events (the platform's: of the URL the response came from). */
  origin: string;
  client: RealtimeClient;
  /** Event types already asked of the client: only listened-to types travel to this tab. */
  asked: Set<string>;
  /** The `on…` attributes: the listener each one registered, which calls the current handler. */
  handlers: Map<string, { fn: Function; listener: (ev: Event) => void }>;
  /** A failed attempt is being told apart from a CORS refusal: its `error` event waits for the answer. */
  probing?: boolean;
}

const internals = new WeakMap<SharedEventSource, Internals>();
const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/**
 * Extra client options a subclass passes through `init` (EventSourcePolyfill's heartbeatTimeout):
 * a symbol key, so that they are no part of the public init.
 */
export const CLIENT_OPTIONS = Symbol('ssemux client options');

/** `open` and `error` are the EventSource's own events: a listener of them asks the server for nothing. */
const OWN_EVENTS = ['open', 'error'];

/**
 * The platform's `EventSource`, over one stream shared by every tab of the origin:
 * `new EventSource(url)` becomes `new SharedEventSource(url)` and nothing else changes. It fires
 * the same `open`, `message` (and named) and `error` events with the same `readyState`s as the
 * platform's, following the HTML "Server-sent events" processing model:
 *
 * - the stream opens: `readyState` `OPEN`, an `open` event;
 * - the stream breaks (a network error) or ends cleanly: `readyState` `CONNECTING`, an `error`
 *   event, and a reconnection that resumes with `Last-Event-ID`; each failed attempt fires
 *   `error` again;
 * - the server answers other than 200 `text/event-stream` (204, 404, 500, a wrong content
 *   type), CORS refuses a cross-origin response, or the URL is one fetch cannot get (`ftp:`,
 *   `about:blank`, `mailto:`, `javascript:`): the connection fails for good, `readyState`
 *   `CLOSED`, an `error` event;
 * - `close()`: `readyState` `CLOSED`, no event.
 *
 * Where it differs from the platform, by design (README, "ssemux/eventsource"):
 * - Waits: the reconnection delay is the server's `retry:`, but never under 1 s after a clean
 *   end, and a stream that keeps failing backs off exponentially with jitter (the platform retries
 *   at the same pace for ever).
 * - A stream silent for 45 s (not even a comment) is taken as dead and reconnected: an `error`
 *   event, where the platform would wait for ever.
 * - Events over 1 MiB are dropped.
 * - Events whose type is `open` or `error` (`event: error` from the server) are not delivered:
 *   listeners of those names hear the connection's events only.
 * - Events are not trusted (`isTrusted` is false), their `origin` is the URL's (the platform gives
 *   that of the URL after redirects), and this is not an `instanceof EventSource`.
 * - Cross-origin, resuming sends `Last-Event-ID` after a CORS preflight, which the server must
 *   allow (the platform's EventSource needs none); `window.stop()` does not reach the request (it
 *   runs in a SharedWorker or another tab); two sources of one URL share one stream.
 */
export class SharedEventSource extends EventTarget implements EventSource {
  /** The connection is being made, or remade after it broke. */
  declare static readonly CONNECTING: 0;
  /** The connection is open and events arrive. */
  declare static readonly OPEN: 1;
  /** The connection failed for good or was closed. */
  declare static readonly CLOSED: 2;
  /** The connection is being made, or remade after it broke. */
  declare readonly CONNECTING: 0;
  /** The connection is open and events arrive. */
  declare readonly OPEN: 1;
  /** The connection failed for good or was closed. */
  declare readonly CLOSED: 2;

  /**
   * Opens the stream at `url` (relative to the document), as `new EventSource(url, init)` does.
   * Throws a `SyntaxError` DOMException for a URL that cannot be parsed, as the platform does,
   * and a `RealtimeError` (`invalid-options`) for options the client cannot use.
   */
  constructor(url: string | URL, init?: SharedEventSourceInit | null) {
    super();
    // As the platform's dictionary conversion: null is no options.
    init ??= {};
    let href: string;
    try {
      href = new URL(String(url), baseUrl()).href;
    } catch {
      throw new DOMException(`Failed to construct 'EventSource': The URL '${String(url)}' is invalid.`, 'SyntaxError');
    }
    const withCredentials = !!init.withCredentials;
    // The platform fails the connection at once for a URL that fetch cannot get (ftp:, about:,
    // mailto:, javascript:); http(s), data: and blob: it streams. The client is then inert: it opens nothing.
    const fetchable = /^(https?|data|blob):/.test(href);
    // (Otherwise the client's own default: inert on a server.)
    // No early stream of the platform's in a first tab: open, error and readyState follow one
    // engine's answers, as the web-platform-tests check them.
    const options: RealtimeClientOptions = { url: href, parse: 'text', withCredentials, inert: !fetchable || undefined, earlyStream: false };
    for (const name of ['headers', 'workerUrl', 'sharing', 'transport', 'topics'] as const) {
      if (init[name] !== undefined) Object.assign(options, { [name]: init[name] });
    }
    Object.assign(options, (init as { [CLIENT_OPTIONS]?: Partial<RealtimeClientOptions> })[CLIENT_OPTIONS]);
    const client = createRealtimeClient(options);
    internals.set(this, { url: href, withCredentials, state: CONNECTING, origin: new URL(href).origin, client, asked: new Set(), handlers: new Map() });
    if (fetchable) client.onStatus((status) => onStatus(this, status));
    else setTimeout(() => internals.get(this)!.state === CLOSED || fire(this, CLOSED, 'error'));
  }

  /** The absolute URL of the stream. */
  get url(): string {
    return internals.get(this)!.url;
  }

  /** Whether cross-origin requests carry cookies. */
  get withCredentials(): boolean {
    return internals.get(this)!.withCredentials;
  }

  /** `CONNECTING` (0), `OPEN` (1) or `CLOSED` (2). */
  get readyState(): number {
    return internals.get(this)!.state;
  }

  /** Called with the `open` event. */
  get onopen(): Handler<Event> {
    return handler(this, 'open');
  }
  set onopen(fn: Handler<Event>) {
    setHandler(this, 'open', fn);
  }

  /** Called with every `message` event (events the server sent without an `event:` name, or named `message`). */
  get onmessage(): Handler<MessageEvent> {
    return handler(this, 'message');
  }
  set onmessage(fn: Handler<MessageEvent>) {
    setHandler(this, 'message', fn);
  }

  /** Called with every `error` event: the connection broke (readyState `CONNECTING`) or failed (`CLOSED`). */
  get onerror(): Handler<Event> {
    return handler(this, 'error');
  }
  set onerror(fn: Handler<Event>) {
    setHandler(this, 'error', fn);
  }

  /**
   * Listens to `type`: `open`, `error`, `message`, or any event name the server sends. Only the
   * types someone listens to travel from the shared stream to this tab.
   */
  override addEventListener<K extends keyof EventSourceEventMap>(type: K, listener: (this: EventSource, ev: EventSourceEventMap[K]) => any, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: (this: EventSource, event: MessageEvent) => any, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: unknown, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
    if (listener) ask(this, String(type));
  }

  /** Closes the stream for this source at once: `readyState` `CLOSED`, no event. Other tabs keep theirs. */
  close(): void {
    const i = internals.get(this)!;
    i.state = CLOSED;
    i.client.close();
  }

  /**
   * The `open` or `error` event to fire; `error` is the client's reason, when there is one. The
   * platform's are plain `Event`s; a subclass may add what its original carried.
   */
  protected connectionEvent(type: 'open' | 'error', _error?: StatusError): Event {
    return new Event(type);
  }
}

/** The EventSource's typings of `removeEventListener`, without a method of its own: EventTarget's does it. */
export interface SharedEventSource {
  /** Stops a listener, as on any EventTarget. */
  removeEventListener<K extends keyof EventSourceEventMap>(type: K, listener: (this: EventSource, ev: EventSourceEventMap[K]) => any, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: (this: EventSource, event: MessageEvent) => any, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

// The platform's constants are on the interface object and on its prototype, enumerable and fixed.
for (const [value, name] of ['CONNECTING', 'OPEN', 'CLOSED'].entries()) {
  for (const target of [SharedEventSource, SharedEventSource.prototype]) Object.defineProperty(target, name, { value, enumerable: true });
}

function handler<E extends Event>(es: SharedEventSource, type: string): Handler<E> {
  return (internals.get(es)!.handlers.get(type)?.fn ?? null) as Handler<E>;
}

/**
 * An `on…` attribute as the platform has it: setting one registers a listener at that moment
 * (so it runs in order with the others), replacing it keeps that place, `null` removes it.
 */
function setHandler(es: SharedEventSource, type: string, fn: unknown): void {
  const handlers = internals.get(es)!.handlers;
  const entry = handlers.get(type);
  if (typeof fn !== 'function') {
    if (entry) es.removeEventListener(type, entry.listener);
    handlers.delete(type);
  } else if (entry) {
    entry.fn = fn;
  } else {
    const added = { fn, listener: (ev: Event) => void added.fn.call(es, ev) };
    handlers.set(type, added);
    es.addEventListener(type, added.listener);
  }
}

/** Asks the client for events of `type`, once: every one is dispatched as the platform's MessageEvent. */
function ask(es: SharedEventSource, type: string): void {
  const i = internals.get(es)!;
  if (OWN_EVENTS.includes(type) || i.asked.has(type)) return;
  i.asked.add(type);
  i.client.on(type, (message) => {
    if (i.state === CLOSED) return;
    es.dispatchEvent(new MessageEvent(type, { data: message.text, lastEventId: message.lastEventId, origin: i.origin }));
  });
}

function fire(es: SharedEventSource, state: number, type: 'open' | 'error', error?: StatusError): void {
  internals.get(es)!.state = state;
  es.dispatchEvent((es as unknown as { connectionEvent: SharedEventSource['connectionEvent'] }).connectionEvent(type, error));
}

/** The client's status, as the platform's EventSource would show it. */
function onStatus(es: SharedEventSource, status: RealtimeStatus): void {
  const i = internals.get(es)!;
  if (i.state === CLOSED) return;
  const { state, error } = status;
  if (state === 'open') {
    if (i.state !== OPEN) fire(es, OPEN, 'open');
    return;
  }
  // Any answer but a 200 event stream fails the platform's connection: the client would retry a
  // 5xx or a 401, the platform does not.
  if (state === 'closed' || (state === 'reconnecting' && (error?.code === 'http' || error?.code === 'unauthorized'))) {
    i.state = CLOSED;
    i.client.close();
    return fire(es, CLOSED, 'error', error);
  }
  if (i.probing) return;
  // The connection broke or ended (from OPEN), or another attempt failed: one error event each.
  if (i.state === OPEN) return fire(es, CONNECTING, 'error', error);
  if (status.reason !== 'failed') return;
  const page = (globalThis as { location?: { origin: string } }).location?.origin;
  if (error?.code !== 'network' || i.origin === page) return fire(es, CONNECTING, 'error', error);
  // A cross-origin request refused by CORS fails as a network failure does, for script. A no-cors
  // request, which needs no permission, tells them apart: it gets an answer from a server that is
  // there. The platform fails the connection on a refusal; it retries after a network failure.
  i.probing = true;
  const settle = (refused: boolean) => {
    i.probing = false;
    if (i.state !== CONNECTING) return;
    // CLOSED first: closing the client reports a status this source must not answer again.
    if (refused) {
      i.state = CLOSED;
      i.client.close();
    }
    fire(es, refused ? CLOSED : CONNECTING, 'error', error);
  };
  fetch(i.url, { method: 'HEAD', mode: 'no-cors' }).then(() => settle(true), () => settle(false));
}
