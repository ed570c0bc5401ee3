import { LONG_POLL_TIMEOUT_MS, PRELUDE_TIMEOUT_MS } from '../protocol/limits.js';
import { RealtimeError } from '../protocol/errors.js';
import type { HeadersInit, ResolvedTransport, WireEvent } from '../protocol/types.js';
import { PROTOCOL_HEADER } from '../protocol/wire.js';
import { loadTransport } from './transports/select-transport.js';
import type { TransportRequest, TransportSink } from './transports/transport.js';

/** What one attempt sends. */
export interface AttemptRequest {
  kind: ResolvedTransport;
  url: string;
  method: 'GET' | 'POST';
  body?: string;
  withCredentials: boolean;
  /** `''` for none. */
  lastEventId: string;
  eventTypes: ReadonlySet<string>;
  /** Asked once, before the request; the caller bounds its time. */
  headers: () => HeadersInit | Promise<HeadersInit>;
  heartbeatTimeoutMs: number;
  /** The server speaks the ssemux protocol whatever its headers say: expect its prelude. */
  prelude: boolean;
}

/**
 * What an attempt tells its connection: at most one of `headersFailed`, `opened` or `refused`;
 * then body text (or events the platform parsed); then at most one of `ended`, `failed` or
 * `silent`. Nothing once the attempt was stopped.
 */
export interface AttemptEvents {
  /** No request was sent: the provider failed, or answered what no request can carry (`fatal`). */
  headersFailed(error: unknown, fatal: boolean): void;
  /** The status line and headers came. Returns whether the body should be read (a 200 event stream). */
  response(status: number, header: (name: string) => string | null): boolean;
  text(chunk: string): void;
  event(event: WireEvent): void;
  /** The body ended normally; `recycle`: the transport wants a fresh request at once (long-poll, a full XHR buffer). */
  ended(recycle: boolean): void;
  failed(error: unknown): void;
  /** Nothing came for the heartbeat timeout (see the attempt's `gotResponse` and `gotBytes`). */
  silent(timeoutMs: number): void;
  /** A server that promised a prelude sent headers and no byte in time. Returns true when the connection acted on it. */
  preludeMissing(): boolean;
}

/** One request of a connection, from asking for headers to the end of its body. */
export interface Attempt {
  readonly kind: ResolvedTransport;
  /** The request as sent, once headers were given (the buffering probe repeats it). */
  readonly sent: TransportRequest | undefined;
  /** The status line came. */
  readonly gotResponse: boolean;
  /** A byte of the body came. */
  readonly gotBytes: boolean;
  /** An event came (the connection says so: its parser reads the body). */
  gotEvents: boolean;
  /** When the request was sent (0 before). */
  readonly sentAt: number;
  /** Starts listening to a newly named event type (the native EventSource needs it). */
  listen(type: string): void;
  /** Ends it at once, however far it got: nothing more is reported. */
  stop(): void;
}

/**
 * Sends one request and watches it: the silence clock starts when the request is sent (waiting for
 * a slot or for headers is not silence), a long-poll is held silent by design for up to
 * {@link LONG_POLL_TIMEOUT_MS}, and a server that promises a prelude must send a byte within
 * {@link PRELUDE_TIMEOUT_MS}.
 */
export function startAttempt(request: AttemptRequest, events: AttemptEvents): Attempt {
  const abort = new AbortController();
  const live = () => !abort.signal.aborted;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  let lastByteAt = 0;
  let listen: ((type: string) => void) | void;
  const { kind } = request;

  const attempt: Attempt = {
    kind,
    sent: undefined,
    gotResponse: false,
    gotBytes: false,
    gotEvents: false,
    sentAt: 0,
    listen: (type) => listen?.(type),
    stop() {
      abort.abort();
      clearTimeout(watchdog);
    },
  };
  const state = attempt as { -readonly [K in keyof Attempt]: Attempt[K] };

  function watchSilence(): void {
    const timeoutMs = kind === 'long-poll' ? Math.max(request.heartbeatTimeoutMs, LONG_POLL_TIMEOUT_MS) : request.heartbeatTimeoutMs;
    clearTimeout(watchdog);
    watchdog = setTimeout(function check() {
      // The platform's EventSource hides comments, so after it opens silence proves nothing.
      if (attempt.gotResponse && kind === 'eventsource') return;
      const idle = Date.now() - lastByteAt;
      if (idle < timeoutMs) watchdog = setTimeout(check, timeoutMs - idle);
      else events.silent(timeoutMs);
    }, timeoutMs);
  }

  function watchPrelude(): void {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      if (!attempt.gotBytes && events.preludeMissing()) return;
      watchSilence();
    }, Math.min(PRELUDE_TIMEOUT_MS, request.heartbeatTimeoutMs));
  }

  const byte = () => {
    state.gotBytes = true;
    lastByteAt = Date.now();
  };
  // Every callback checks the signal: a transport may still report after the attempt was stopped.
  const sink: TransportSink = {
    response(code, header) {
      if (!live()) return false;
      state.gotResponse = true;
      lastByteAt = Date.now();
      const read = events.response(code, header);
      if (read && live() && (request.prelude || header(PROTOCOL_HEADER)) && kind !== 'long-poll' && kind !== 'eventsource') watchPrelude();
      return read;
    },
    text(chunk) {
      if (!live()) return;
      byte();
      events.text(chunk);
    },
    event(event) {
      if (!live()) return;
      byte();
      state.gotEvents = true;
      events.event(event);
    },
    end(recycle) {
      if (live()) events.ended(recycle);
    },
    error(error) {
      if (live()) events.failed(error);
    },
  };

  void (async () => {
    let headers: HeadersInit;
    try {
      headers = { ...(await request.headers()) };
    } catch (error) {
      if (live()) events.headersFailed(error, false);
      return;
    }
    let transport;
    try {
      transport = await loadTransport(kind);
    } catch (error) {
      transport = () => {
        throw error;
      };
    }
    if (!live()) return;
    headers.Accept = 'text/event-stream';
    // A header value is a byte string: the id's UTF-8 bytes, one character each, as EventSource sends it.
    if (request.lastEventId) headers['Last-Event-ID'] = unescape(encodeURIComponent(request.lastEventId));
    try {
      new Headers(headers);
    } catch (error) {
      // A value outside Latin-1 (a provider's token) or a name that is no token: no request can carry it.
      return events.headersFailed(error, true);
    }
    state.sentAt = lastByteAt = Date.now();
    watchSilence();
    state.sent = {
      url: request.url,
      method: request.method,
      ...(request.body !== undefined && { body: request.body }),
      headers,
      withCredentials: request.withCredentials,
      lastEventId: request.lastEventId,
      signal: abort.signal,
      eventTypes: request.eventTypes,
    };
    try {
      listen = transport(state.sent, sink);
    } catch (error) {
      // A constructor the platform lacks or refuses: the next transport may work.
      sink.error(new RealtimeError('unsupported', `${kind} failed to start: ${(error as Error)?.message ?? error}`));
    }
  })();

  return attempt;
}
