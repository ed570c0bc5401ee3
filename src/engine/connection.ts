import { RealtimeError, toStatusError } from '../protocol/errors.js';
import type { ConnectionStatus } from '../protocol/stream.js';
import type { HeadersInit, ResolvedTransport, StatusError, TransportKind, WireEvent } from '../protocol/types.js';
import { backoffDelay, parseRetryAfter, type Backoff } from './backoff.js';
import { createParser } from './parser.js';
import { classifyResponse } from './response-policy.js';
import { loadTransport, transportOrder } from './transports/select-transport.js';
import type { TransportSink } from './transports/transport.js';

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
  /** A connection open this long resets the attempt count. @default 5000 */
  stableAfterMs?: number;
  /** Called before every attempt (and so again after a 401). */
  headers: () => HeadersInit | Promise<HeadersInit>;
  /** True when `headers` may return custom headers: the native EventSource cannot send them. */
  customHeaders: boolean;
  /** Resume point for the first request; `''` for none. */
  lastEventId: string;
  /** Types listened to, for the native EventSource (it only reports named types). */
  eventTypes?: Iterable<string>;
  /** Hot path: called synchronously for every event. */
  onEvent(event: WireEvent): void;
  onStatus(status: ConnectionStatus): void;
  /** Injectable randomness for the backoff jitter. */
  random?: () => number;
  /** Where `online` events come from; `null` for none. @default globalThis */
  onlineTarget?: EventTarget | null;
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
  /** Aborts the request and any pending retry, at once. */
  close(): void;
}

/**
 * Where `auto` had to move away from a transport, by endpoint (origin and path: a buffering
 * proxy does not care about the query): remembered for the life of this scope (the worker, or
 * the page), so later connections start where the working one ended.
 */
const downgraded = new Map<string, { transport: ResolvedTransport; reason: string }>();

/**
 * Opens a stream and keeps it open: reconnects with backoff and jitter, resumes with
 * `Last-Event-ID`, follows the status rules of shared/docs/sse-rules.md and detects dead
 * streams. Runs anywhere (tab, SharedWorker, dedicated worker): no `window`, no `document`.
 */
export function createConnection(options: ConnectionOptions): Connection {
  const random = options.random ?? Math.random;
  const stableAfterMs = options.stableAfterMs ?? 5000;
  const eventTypes = new Set(options.eventTypes ?? []);
  const order = transportOrder(options.transport, { headers: options.customHeaders, post: options.method !== 'GET' });
  const endpoint = endpointOf(options.url);
  const remembered = options.transport === 'auto' ? downgraded.get(endpoint) : undefined;
  let orderIndex = Math.max(0, remembered ? order.indexOf(remembered.transport) : 0);

  let status: ConnectionStatus = { state: 'connecting', transport: order[orderIndex]!, attempt: 0, lastEventId: options.lastEventId };
  if (remembered && orderIndex > 0) status.fallbackReason = remembered.reason;
  let lastEventId = options.lastEventId;
  let serverRetryMs: number | undefined;
  let closed = false;
  let controller: AbortController | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  let stableTimer: ReturnType<typeof setTimeout> | undefined;
  let lastByteAt = 0;
  let listen: ((type: string) => void) | undefined;
  let unauthorizedInARow = 0;
  let silentTimeouts = 0;
  let gotResponse = false;
  let gotBytes = false;

  const parser = createParser(
    {
      onEvent: options.onEvent,
      onLastEventId: (id) => {
        lastEventId = id;
      },
      onRetry: (ms) => {
        serverRetryMs = ms;
      },
      onOversize: (size) => {
        emit({ error: { code: 'event-too-large', message: `Dropped an event of ${size}+ characters (maxEventSize ${options.maxEventSize})` } });
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

  /** Ends the current request; the parser forgets any half-received block. */
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
    listen = undefined;
    parser.reset(lastEventId);
  }

  function scheduleRetry(error: StatusError | undefined, minDelayMs = 0, exactDelayMs?: number): void {
    endRequest();
    if (closed) return;
    const attempt = status.attempt + 1;
    const delay = exactDelayMs ?? Math.max(minDelayMs, backoffDelay(attempt, options.backoff, random));
    emit({ state: 'reconnecting', attempt, retryInMs: delay, ...(error ? { error } : {}) });
    retryTimer = setTimeout(connect, delay);
  }

  function stop(error: StatusError): void {
    endRequest();
    closed = true;
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
      const silent = !gotBytes;
      // Two timeouts in a row without one byte of body on a streaming transport: something
      // between us and the server holds the stream back (a buffering proxy, which may or may
      // not pass the headers on); long-poll gets through it.
      if (silent && ++silentTimeouts >= 2 && options.transport === 'auto' && status.transport !== 'long-poll' && order.includes('long-poll')) {
        fallBack('long-poll', { code: 'buffered-stream', message: 'No byte arrived on two streams in a row: switched to long-poll' });
        return;
      }
      scheduleRetry({ code: 'heartbeat-timeout', message: `No data for ${timeoutMs} ms` });
    }, timeoutMs);
  }

  function fallBack(to: ResolvedTransport, error: StatusError): void {
    orderIndex = order.indexOf(to);
    downgraded.set(endpoint, { transport: to, reason: error.message });
    endRequest();
    emit({ state: 'reconnecting', retryInMs: 0, transport: to, error, fallbackReason: error.message });
    retryTimer = setTimeout(connect, 0);
  }

  async function connect(): Promise<void> {
    retryTimer = undefined;
    if (closed) return;
    const kind = order[orderIndex]!;
    if (status.transport !== kind) emit({ transport: kind });
    const abort = (controller = new AbortController());
    gotResponse = gotBytes = false;
    lastByteAt = Date.now();
    armHeartbeat();

    let headers: HeadersInit;
    try {
      headers = { ...(await options.headers()) };
    } catch (error) {
      if (!abort.signal.aborted) scheduleRetry(toStatusError(error, 'headers'));
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
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;

    // Every callback checks the signal: a transport may still report after we moved on.
    const live = () => !abort.signal.aborted;
    const sink: TransportSink = {
      response(code, contentType, retryAfter) {
        if (!live()) return false;
        gotResponse = true;
        lastByteAt = Date.now();
        const verdict = classifyResponse(code, contentType);
        if (verdict.action === 'open') {
          unauthorizedInARow = 0;
          if (status.state !== 'open' || status.error) emit({ state: 'open', error: undefined });
          stableTimer ??= setTimeout(() => {
            if (status.attempt !== 0) emit({ attempt: 0 });
          }, stableAfterMs);
          return true;
        }
        const error = verdict.error.toJSON();
        if (verdict.action === 'stop' || verdict.action === 'fatal') stop(error);
        else if (verdict.action === 'auth' && ++unauthorizedInARow === 1) scheduleRetry(error, 0, 0);
        else scheduleRetry(error, parseRetryAfter(retryAfter) ?? 0);
        return false;
      },
      text(chunk) {
        if (!live()) return;
        gotBytes = true;
        silentTimeouts = 0;
        lastByteAt = Date.now();
        parser.feed(chunk);
      },
      event(event) {
        if (!live()) return;
        gotBytes = true;
        silentTimeouts = 0;
        lastByteAt = Date.now();
        lastEventId = event.id;
        options.onEvent(event);
      },
      end(recycle) {
        if (!live()) return;
        if (recycle) {
          // Long-poll answers and full XHR buffers are not failures: ask again at once.
          endRequest(true);
          void connect();
          return;
        }
        // A clean end is how servers rotate connections (a deploy, a proxy timeout): no error.
        scheduleRetry(undefined, 0, serverRetryMs);
      },
      error(error) {
        if (!live()) return;
        if (error instanceof RealtimeError && error.code === 'unsupported' && orderIndex + 1 < order.length) {
          fallBack(order[orderIndex + 1]!, error.toJSON());
          return;
        }
        scheduleRetry(toStatusError(error, 'network'));
      },
    };
    try {
      listen = transport(
        {
          url: options.url,
          method: options.method,
          ...(options.body !== undefined ? { body: options.body } : {}),
          headers,
          withCredentials: options.withCredentials,
          lastEventId,
          signal: abort.signal,
          eventTypes,
        },
        sink,
      ) || undefined;
    } catch (error) {
      // A constructor the platform lacks or refuses: the next transport may work.
      sink.error(new RealtimeError('unsupported', `${kind} failed to start: ${(error as Error)?.message ?? error}`));
    }
  }

  const onOnline = () => {
    if (status.state === 'reconnecting' && retryTimer !== undefined) connection.reconnectNow();
  };
  const onlineTarget = options.onlineTarget === undefined ? (globalThis as unknown as EventTarget) : options.onlineTarget;
  const canListen = typeof onlineTarget?.addEventListener === 'function';
  if (canListen) onlineTarget!.addEventListener('online', onOnline);
  function removeOnline(): void {
    if (canListen) onlineTarget!.removeEventListener('online', onOnline);
  }

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
      void connect();
    },
    close() {
      if (closed) return;
      endRequest();
      closed = true;
      removeOnline();
      emit({ state: 'closed' });
    },
  };
  emit({});
  void connect();
  return connection;
}

function endpointOf(url: string): string {
  const { origin, pathname } = new URL(url);
  return origin + pathname;
}
