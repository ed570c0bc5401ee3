import { clampDelay } from '../protocol/defaults.js';
import { DOWNGRADE_TTL_MS, MIN_RETRY_MS, PRELUDE_TIMEOUT_MS, STABLE_AFTER_MS } from '../protocol/limits.js';
import { RealtimeError, toStatusError } from '../protocol/errors.js';
import type { ConnectionStatus } from '../protocol/stream.js';
import type { HeadersInit, ResolvedTransport, StatusError, TransportKind, WireEvent } from '../protocol/types.js';
import { backoffDelay, type Backoff } from './backoff.js';
import { requestSlot } from './connection-slots.js';
import { parseRetryAfter } from './retry-after.js';
import { downgradeOf, endpointOf, rememberDowngrade } from './downgrades.js';
import { createParser } from './parser.js';
import { PROTOCOL_HEADER } from '../protocol/wire.js';
import { classifyResponse } from './response-policy.js';
import { loadTransport, transportOrder } from './transports/select-transport.js';
import type { TransportRequest, TransportSink } from './transports/transport.js';

/** Options of {@link createConnection}. */
export interface ConnectionOptions {
  /** Absolute URL. */
  url: string;
  transport: TransportKind;
  withCredentials: boolean;
  method: 'GET' | 'POST';
  body?: string;
  backoff: Backoff;
  heartbeatTimeoutMs: number;
  maxEventSize: number;
  /** Upstreams open at once to the URL's origin in this realm, this one included. */
  maxConnections: number;
  /** A connection open this long resets the attempt count. @default STABLE_AFTER_MS */
  stableAfterMs?: number;
  /** Called once before every attempt (and so again after a 401); the caller bounds its time. */
  headers: () => HeadersInit | Promise<HeadersInit>;
  /** True when `headers` may return custom headers: the native EventSource cannot send them. */
  customHeaders: boolean;
  /** Resume point for the first request; `''` for none. */
  lastEventId: string;
  /** Types listened to, for the native EventSource (it only reports named types). */
  eventTypes?: Iterable<string>;
  /** The server speaks the ssemux protocol whatever its headers say (a topic stream): expect its prelude. */
  prelude?: boolean;
  /** Hot path: called synchronously for every event. */
  onEvent(event: WireEvent): void;
  /** An id-only block moved the stream's last event id without an event (an event carries its own id). */
  onId?(id: string): void;
  onStatus(status: ConnectionStatus): void;
  /** Injectable randomness for the backoff jitter. */
  random?: () => number;
  /** Where `online` events come from. @default globalThis */
  onlineTarget?: EventTarget;
}

/** A long-poll request that has not answered by then is dead (servers hold one about 25 s). */
export const LONG_POLL_TIMEOUT_MS = 35_000;

/** One logical SSE stream: requests, parsing, reconnection and status. */
export interface Connection {
  readonly status: ConnectionStatus;
  /** Starts listening to a newly named event type (matters for the native EventSource only). */
  listen(type: string): void;
  /** Skips a pending backoff wait. */
  reconnectNow(): void;
  /**
   * Ends the current request and sends a new one at once: to `url` and with `body` when given
   * (other topics; a body makes it a POST, `null` a GET again), resuming from `lastEventId` when
   * given (a rewind), else from where the stream stands.
   */
  restart(change?: { url?: string; body?: string | null; lastEventId?: string }): void;
  /** Aborts the request and any pending retry, at once. */
  close(): void;
}

/**
 * Opens a stream and keeps it open: reconnects with backoff and jitter, resumes with
 * `Last-Event-ID`, follows the status rules of docs/sse-rules.md and detects dead
 * streams. Runs anywhere (tab, SharedWorker, dedicated worker): no `window`, no `document`.
 */
export function createConnection(options: ConnectionOptions): Connection {
  const random = options.random ?? Math.random;
  const stableAfterMs = options.stableAfterMs ?? STABLE_AFTER_MS;
  const maxConnections = options.maxConnections;
  const eventTypes = new Set(options.eventTypes ?? []);
  const order = transportOrder(options.transport, { headers: options.customHeaders, post: options.method !== 'GET' });
  let url = options.url;
  let body = options.body;
  const endpoint = endpointOf(url);
  const origin = new URL(url).origin;
  const remembered = options.transport === 'auto' ? downgradeOf(endpoint) : undefined;
  let orderIndex = Math.max(0, remembered ? order.indexOf(remembered.transport) : 0);

  let status: ConnectionStatus = { state: 'connecting', transport: order[orderIndex]!, attempt: 0, lastEventId: options.lastEventId };
  if (remembered && orderIndex > 0) status.fallbackReason = remembered.reason;
  let lastEventId = options.lastEventId;
  let serverRetryMs: number | undefined;
  let closed = false;
  /** The current attempt: aborted when it ends, however it ends. */
  let controller: AbortController | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  let stableTimer: ReturnType<typeof setTimeout> | undefined;
  let releaseSlot: (() => void) | undefined;
  let cancelSlot: (() => void) | undefined;
  let lastByteAt = 0;
  let sentAt = 0;
  let listen: ((type: string) => void) | undefined;
  let unauthorizedInARow = 0;
  /** Streams in a row whose headers came but whose body did not: the evidence of a buffering proxy. */
  let heldBack = 0;
  let gotResponse = false;
  let gotBytes = false;
  let gotEvents = false;
  /** The request of the current attempt, for the probe. */
  let sent: TransportRequest | undefined;
  /** A long-poll sent to learn whether responses only get through once complete. */
  let probe: AbortController | undefined;

  /** An id change the parser reported, held until it is known whether an event of the same block follows. */
  let heldId: string | undefined;
  const releaseId = () => {
    if (heldId === undefined) return;
    const id = heldId;
    heldId = undefined;
    options.onId?.(id);
  };
  const parser = createParser(
    {
      onEvent(event) {
        heldId = undefined;
        gotEvents = true;
        options.onEvent(event);
      },
      onLastEventId(id) {
        releaseId();
        lastEventId = id;
        heldId = id;
      },
      onRetry(ms) {
        serverRetryMs = ms;
      },
      onOversize(size) {
        emit({ error: { code: 'event-too-large', message: `Dropped an event of ${size}+ characters from ${url} (maxEventSize ${options.maxEventSize})` } });
      },
    },
    { maxEventSize: options.maxEventSize },
  );

  /** Publishes a new status object; `error: undefined` in the patch clears the error. */
  function emit(patch: Partial<ConnectionStatus>): void {
    const next: ConnectionStatus = { ...status, lastEventId, ...patch };
    if (next.state !== 'reconnecting') delete next.retryInMs;
    if (next.error === undefined) delete next.error;
    status = next;
    options.onStatus(next);
  }

  /** Ends the current attempt, whatever stage it reached; the parser forgets any half-received block. */
  function endRequest(keepStable = false): void {
    clearTimeout(retryTimer);
    clearTimeout(heartbeatTimer);
    retryTimer = heartbeatTimer = undefined;
    if (!keepStable) {
      clearTimeout(stableTimer);
      stableTimer = undefined;
    }
    controller?.abort();
    controller = undefined;
    cancelSlot?.();
    releaseSlot?.();
    cancelSlot = releaseSlot = undefined;
    listen = undefined;
    parser.reset(lastEventId);
  }

  /** Runs `then` after `delay`; at once when there is none (a zero timeout waits a second in a hidden tab). */
  function wait(delay: number, then: () => void): void {
    if (delay > 0) retryTimer = setTimeout(then, clampDelay(delay));
    else then();
  }

  function scheduleRetry(error: StatusError | undefined, delay: number): void {
    endRequest();
    if (closed) return;
    const ms = clampDelay(delay);
    emit({ state: 'reconnecting', attempt: status.attempt + 1, retryInMs: ms, ...(error ? { error } : {}) });
    wait(ms, connect);
  }

  /** The wait before attempt `attempt`: full-jitter backoff, at least `min`. */
  function backoff(min = 0): number {
    return Math.max(min, backoffDelay(status.attempt + 1, options.backoff, random));
  }

  function stop(error: StatusError): void {
    endRequest();
    closed = true;
    probe?.abort();
    removeOnline();
    emit({ state: 'closed', error });
  }

  function armHeartbeat(): void {
    // A long-poll is held silent by design, for up to about 25 s.
    const timeoutMs = status.transport === 'long-poll' ? Math.max(options.heartbeatTimeoutMs, LONG_POLL_TIMEOUT_MS) : options.heartbeatTimeoutMs;
    heartbeatTimer = setTimeout(function check() {
      // The platform's EventSource hides comments, so after it opens silence proves nothing.
      if (gotResponse && status.transport === 'eventsource') return;
      const idle = Date.now() - lastByteAt;
      if (idle < timeoutMs) {
        heartbeatTimer = setTimeout(check, timeoutMs - idle);
        return;
      }
      // Headers came and the body did not, twice in a row: something between us and the server
      // holds the stream back. Without even headers nothing is proven yet (a slow server, a
      // browser queue full of the page's own requests): a probe finds out.
      if (gotResponse && !gotBytes && ++heldBack >= 2 && downgrade()) return;
      if (!gotResponse) startProbe();
      scheduleRetry({ code: 'heartbeat-timeout', message: `No data from ${url} for ${timeoutMs} ms` }, backoff());
    }, timeoutMs);
  }

  /** A server that promised a prelude sent headers and no byte: a proxy buffers the stream. */
  function armPrelude(): void {
    clearTimeout(heartbeatTimer);
    heartbeatTimer = setTimeout(() => {
      if (!gotBytes && downgrade()) return;
      armHeartbeat();
    }, Math.min(PRELUDE_TIMEOUT_MS, options.heartbeatTimeoutMs));
  }

  /** `auto` may move to long-poll from here. */
  function mayDowngrade(): boolean {
    return options.transport === 'auto' && status.transport !== 'long-poll' && order.includes('long-poll');
  }

  /**
   * A stream got no response at all: one long-poll request finds out why. If a complete response
   * gets through while the stream still shows nothing, something holds responses until they end
   * (a gateway that buffers whole responses, headers included): that is the evidence to move.
   * If the long-poll shows nothing either, the server is slow or down, and nothing is concluded.
   */
  function startProbe(): void {
    if (probe || !sent || !mayDowngrade()) return;
    const ctrl = (probe = new AbortController());
    const done = () => {
      if (probe === ctrl) probe = undefined;
      ctrl.abort();
    };
    const request: TransportRequest = { ...sent, signal: ctrl.signal };
    void loadTransport('long-poll').then((longPoll) =>
      longPoll(request, {
        response: (code, header) => {
          const ok = classifyResponse(code, header('content-type')).action === 'open';
          if (!ok) done();
          return ok;
        },
        text() {},
        event() {},
        end() {
          const proven = probe === ctrl && !gotResponse && !closed;
          done();
          if (proven) downgrade();
        },
        error: done,
      }),
    );
  }

  /** Moves to long-poll for a buffering proxy, when `auto` may; false when it may not. */
  function downgrade(): boolean {
    if (!mayDowngrade()) return false;
    fallBack('long-poll', { code: 'buffered-stream', message: `A proxy holds back the stream from ${url}: switched to long-poll` }, true);
    return true;
  }

  function fallBack(to: ResolvedTransport, error: StatusError, remember: boolean): void {
    probe?.abort();
    probe = undefined;
    orderIndex = order.indexOf(to);
    if (remember) rememberDowngrade(endpoint, to, error.message, DOWNGRADE_TTL_MS);
    endRequest();
    emit({ state: 'reconnecting', retryInMs: 0, transport: to, error, fallbackReason: error.message });
    wait(0, connect);
  }

  function connect(): void {
    retryTimer = undefined;
    if (closed) return;
    const kind = order[orderIndex]!;
    if (status.transport !== kind) emit({ transport: kind });
    const abort = (controller = new AbortController());
    let granted = false;
    const cancel = requestSlot(origin, maxConnections, (release) => {
      granted = true;
      cancelSlot = undefined;
      if (abort.signal.aborted) return release();
      releaseSlot = release;
      if (status.error?.code === 'connection-limit') emit({ error: undefined });
      void send(kind, abort);
    });
    if (granted) return;
    cancelSlot = cancel;
    emit({ error: { code: 'connection-limit', message: `Waiting for a free connection: ${maxConnections} upstreams to ${origin} are open (maxConnections)` } });
  }

  async function send(kind: ResolvedTransport, abort: AbortController): Promise<void> {
    let headers: HeadersInit;
    try {
      headers = { ...(await options.headers()) };
    } catch (error) {
      if (!abort.signal.aborted) scheduleRetry(toStatusError(error, 'headers'), backoff());
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
    if (abort.signal.aborted) return;
    headers.Accept = 'text/event-stream';
    // A header value is a byte string: the id's UTF-8 bytes, one character each, as EventSource sends it.
    if (lastEventId) headers['Last-Event-ID'] = unescape(encodeURIComponent(lastEventId));
    try {
      new Headers(headers);
    } catch (error) {
      // A value outside Latin-1 (a provider's token) or a name that is no token: no request can carry it.
      return stop({ code: 'headers', message: `${error} (${url})` });
    }
    gotResponse = gotBytes = gotEvents = false;
    // The silence clock starts with the request: waiting for a slot or for headers is not silence.
    sentAt = lastByteAt = Date.now();
    armHeartbeat();

    // Every callback checks the signal: a transport may still report after we moved on.
    const live = () => !abort.signal.aborted;
    const byte = () => {
      gotBytes = true;
      heldBack = 0;
      lastByteAt = Date.now();
    };
    const sink: TransportSink = {
      response(code, header) {
        if (!live()) return false;
        gotResponse = true;
        lastByteAt = Date.now();
        const verdict = classifyResponse(code, header('content-type'));
        if (verdict.action === 'open') {
          unauthorizedInARow = 0;
          if (status.state !== 'open' || status.error) emit({ state: 'open', error: undefined });
          stableTimer ??= setTimeout(() => {
            if (status.attempt !== 0) emit({ attempt: 0 });
          }, stableAfterMs);
          if ((options.prelude || header(PROTOCOL_HEADER)) && kind !== 'long-poll' && kind !== 'eventsource') armPrelude();
          return true;
        }
        const error = { ...verdict.error, message: `${verdict.error.message} (${url})` };
        if (verdict.action === 'stop' || verdict.action === 'fatal') stop(error);
        else if (verdict.action === 'auth' && ++unauthorizedInARow === 1) scheduleRetry(error, 0);
        else scheduleRetry(error, backoff(parseRetryAfter(header('retry-after')) ?? 0));
        return false;
      },
      text(chunk) {
        if (!live()) return;
        byte();
        parser.feed(chunk);
        releaseId();
      },
      event(event) {
        if (!live()) return;
        byte();
        gotEvents = true;
        lastEventId = event.id;
        options.onEvent(event);
      },
      end(recycle) {
        if (!live()) return;
        if (recycle) {
          // Long-poll answers and full XHR buffers are not failures. An answer with events is
          // followed at once; an empty one (the server had nothing) no sooner than the floor.
          const delay = gotEvents ? 0 : MIN_RETRY_MS - (Date.now() - sentAt);
          endRequest(true);
          wait(delay, connect);
          return;
        }
        // A clean end is how servers rotate connections (a deploy, a proxy timeout): no error. The
        // server's `retry:` sets the wait, but never below the floor, and a stream that keeps
        // ending before it was stable backs off as a failing one would.
        const drawn = backoff();
        const quick = status.attempt > 0;
        const delay = serverRetryMs === undefined ? drawn : quick ? Math.max(serverRetryMs, drawn) : serverRetryMs;
        scheduleRetry(undefined, Math.max(delay, MIN_RETRY_MS));
      },
      error(error) {
        if (!live()) return;
        if (error instanceof RealtimeError && error.code === 'unsupported' && orderIndex + 1 < order.length) {
          fallBack(order[orderIndex + 1]!, error.toJSON(), false);
          return;
        }
        scheduleRetry(toStatusError(error, 'network'), backoff());
      },
    };
    sent = {
      url,
      method: body !== undefined ? 'POST' : options.method,
      ...(body !== undefined ? { body } : {}),
      headers,
      withCredentials: options.withCredentials,
      lastEventId,
      signal: abort.signal,
      eventTypes,
    };
    try {
      listen = transport(sent, sink) || undefined;
    } catch (error) {
      // A constructor the platform lacks or refuses: the next transport may work.
      sink.error(new RealtimeError('unsupported', `${kind} failed to start: ${(error as Error)?.message ?? error}`));
    }
  }

  const onOnline = () => {
    if (status.state === 'reconnecting' && retryTimer !== undefined) connection.reconnectNow();
  };
  // Node (tests) has no global event target.
  const onlineTarget: Partial<EventTarget> = options.onlineTarget ?? globalThis;
  onlineTarget.addEventListener?.('online', onOnline);
  const removeOnline = () => onlineTarget.removeEventListener?.('online', onOnline);

  const connection: Connection = {
    get status() {
      return status;
    },
    listen(type) {
      if (eventTypes.has(type)) return;
      eventTypes.add(type);
      listen?.(type);
    },
    reconnectNow() {
      if (closed || retryTimer === undefined || status.state !== 'reconnecting') return;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      connect();
    },
    restart(change = {}) {
      if (closed) return;
      if (change.url !== undefined) url = change.url;
      if (change.body !== undefined) body = change.body ?? undefined;
      if (change.lastEventId !== undefined) lastEventId = change.lastEventId;
      endRequest(true);
      connect();
    },
    close() {
      if (closed) return;
      endRequest();
      closed = true;
      probe?.abort();
      removeOnline();
      emit({ state: 'closed' });
    },
  };
  emit({});
  connect();
  return connection;
}
