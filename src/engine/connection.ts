import { backoffDelay, clampDelay, type Backoff } from '../protocol/delays.js';
import { DOWNGRADE_TTL_MS, MIN_RETRY_MS, STABLE_AFTER_MS } from '../protocol/limits.js';
import { RealtimeError, toStatusError } from '../protocol/errors.js';
import type { ConnectionStatus } from '../protocol/stream.js';
import type { HeadersInit, ResolvedTransport, StatusError, TransportKind, WireEvent } from '../protocol/types.js';
import { startAttempt, type Attempt } from './attempt.js';
import { probeBuffering } from './buffering-probe.js';
import type { ConnectionScope } from './connection-scope.js';
import { endpointOf } from './downgrades.js';
import { createParser } from './parser.js';
import { parseRetryAfter } from './retry-after.js';
import { classifyResponse } from './response-policy.js';
import { transportOrder } from './transports/select-transport.js';

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
  /** What the connections of this realm share: the per-origin slots and the remembered downgrades. */
  scope: ConnectionScope;
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
 * Where a connection is:
 * - `idle`: between two steps (nothing held);
 * - `queued`: waiting for a free connection to the origin (`maxConnections`);
 * - `attempt`: a request under way, holding a slot (./attempt.ts);
 * - `waiting`: before the next request (a backoff, the floor after a clean end or an empty long-poll);
 * - `closed`: for good.
 */
type Phase =
  | { kind: 'idle' }
  | { kind: 'queued'; cancel: () => void }
  | { kind: 'attempt'; attempt: Attempt; release: () => void }
  | { kind: 'waiting'; timer: ReturnType<typeof setTimeout>; release?: () => void }
  | { kind: 'closed' };

/**
 * Opens a stream and keeps it open: reconnects with backoff and jitter, resumes with
 * `Last-Event-ID`, follows the status rules of docs/sse-rules.md, detects dead streams and
 * buffering proxies, and moves to the next transport when one cannot run. Runs anywhere (tab,
 * SharedWorker, dedicated worker): no `window`, no `document`.
 */
export function createConnection(options: ConnectionOptions): Connection {
  const { scope, maxConnections } = options;
  const random = options.random ?? Math.random;
  const stableAfterMs = options.stableAfterMs ?? STABLE_AFTER_MS;
  const eventTypes = new Set(options.eventTypes ?? []);
  const order = transportOrder(options.transport, { headers: options.customHeaders, post: options.method !== 'GET' });
  let url = options.url;
  let body = options.body;
  const endpoint = endpointOf(url);
  const origin = new URL(url).origin;
  const remembered = options.transport === 'auto' ? scope.downgrades.of(endpoint) : undefined;
  let orderIndex = Math.max(0, remembered ? order.indexOf(remembered.transport) : 0);

  let phase: Phase = { kind: 'idle' };
  let status: ConnectionStatus = { state: 'connecting', reason: 'started', transport: order[orderIndex]!, attempt: 0, lastEventId: options.lastEventId };
  if (remembered && orderIndex > 0) status.fallbackReason = remembered.reason;
  let lastEventId = options.lastEventId;
  /** The server's `retry:`, once it sent one. */
  let serverRetryMs: number | undefined;
  /** Set while open, until the connection counts as stable. */
  let stableTimer: ReturnType<typeof setTimeout> | undefined;
  let unauthorizedInARow = 0;
  /** Streams in a row whose headers came but whose body did not: the evidence of a buffering proxy. */
  let heldBack = 0;
  /** The last attempt, also once ended (the probe asks whether it got a response). */
  let last: Attempt | undefined;
  /** A long-poll sent to learn whether responses only get through once complete. */
  let probe: (() => void) | undefined;

  /** An id change the parser reported, held until it is known whether an event of the same block follows. */
  let heldId: string | undefined;
  const releaseId = () => {
    if (heldId === undefined) return;
    const id = heldId;
    heldId = undefined;
    options.onId?.(id);
  };
  const reportOversize = (size: number) =>
    emit({ reason: 'reported', error: { code: 'event-too-large', message: `Dropped an event of ${size}+ characters from ${url} (maxEventSize ${options.maxEventSize})` } });
  const parser = createParser(
    {
      onEvent(event) {
        heldId = undefined;
        if (last) last.gotEvents = true;
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
      onOversize: (size) => reportOversize(size),
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

  /** Lets go of what the phase holds; the parser forgets any half-received block. */
  function leave(keepStable = false): void {
    if (phase.kind === 'queued') phase.cancel();
    else if (phase.kind === 'attempt') {
      phase.attempt.stop();
      phase.release();
    } else if (phase.kind === 'waiting') {
      clearTimeout(phase.timer);
      phase.release?.();
    }
    if (phase.kind !== 'closed') phase = { kind: 'idle' };
    if (!keepStable) {
      clearTimeout(stableTimer);
      stableTimer = undefined;
    }
    parser.reset(lastEventId);
  }

  /** Runs `then` after `delay`; at once when there is none (a zero timeout waits a second in a hidden tab). */
  function wait(delay: number, then: () => void): void {
    if (delay > 0) phase = { kind: 'waiting', timer: setTimeout(then, clampDelay(delay)) };
    else then();
  }

  /**
   * The next request of the same upstream (a restart, a long-poll's next poll), after `delay`. It
   * keeps the slot the last one held: released, a stream waiting for one would take it, and this
   * one, still open, would wait behind it with no request out.
   */
  function follow(delay: number): void {
    if (phase.kind !== 'attempt') {
      leave(true);
      return wait(delay, connect);
    }
    const { release } = phase;
    phase.attempt.stop();
    parser.reset(lastEventId);
    const next = () => begin(order[orderIndex]!, release);
    if (delay > 0) phase = { kind: 'waiting', timer: setTimeout(next, clampDelay(delay)), release };
    else next();
  }

  function retry(error: StatusError | undefined, delay: number): void {
    leave();
    if (phase.kind === 'closed') return;
    const ms = clampDelay(delay);
    emit({ state: 'reconnecting', reason: error ? 'failed' : 'ended', attempt: status.attempt + 1, retryInMs: ms, ...(error && { error }) });
    wait(ms, connect);
  }

  /** The wait before the next attempt: full-jitter backoff, at least `min`. */
  function backoff(min = 0): number {
    return Math.max(min, backoffDelay(status.attempt + 1, options.backoff, random));
  }

  function end(patch: Partial<ConnectionStatus>): void {
    leave();
    phase = { kind: 'closed' };
    probe?.();
    removeOnline();
    emit(patch);
  }

  /** `auto` may move to long-poll from here. */
  function mayDowngrade(): boolean {
    return options.transport === 'auto' && status.transport !== 'long-poll' && order.includes('long-poll');
  }

  /** Moves to long-poll for a buffering proxy, when `auto` may; false when it may not. */
  function downgrade(): boolean {
    if (!mayDowngrade()) return false;
    fallBack('long-poll', { code: 'buffered-stream', message: `A proxy holds back the stream from ${url}: switched to long-poll` }, true);
    return true;
  }

  function fallBack(to: ResolvedTransport, error: StatusError, remember: boolean): void {
    probe?.();
    probe = undefined;
    orderIndex = order.indexOf(to);
    if (remember) scope.downgrades.remember(endpoint, to, error.message, DOWNGRADE_TTL_MS);
    leave();
    emit({ state: 'reconnecting', reason: 'fell-back', retryInMs: 0, transport: to, error, fallbackReason: error.message });
    wait(0, connect);
  }

  /** A stream got no response at all: a long-poll finds out whether responses get through once complete. */
  function startProbe(): void {
    const sent = last?.sent;
    if (probe || !sent || !mayDowngrade()) return;
    const end = probeBuffering(sent, () => {
      probe = undefined;
      if (!last?.gotResponse && phase.kind !== 'closed') downgrade();
    });
    probe = () => {
      end();
      probe = undefined;
    };
  }

  function connect(): void {
    if (phase.kind === 'closed') return;
    const kind = order[orderIndex]!;
    if (status.transport !== kind) emit({ reason: 'updated', transport: kind });
    const queued: Phase = { kind: 'queued', cancel: () => {} };
    phase = queued;
    queued.cancel = scope.slots.request(origin, maxConnections, (release) => {
      if (phase !== queued) return release();
      if (status.error?.code === 'connection-limit') emit({ reason: 'updated', error: undefined });
      begin(kind, release);
    });
    if (phase === queued) {
      emit({ reason: 'reported', error: { code: 'connection-limit', message: `Waiting for a free connection: ${maxConnections} upstreams to ${origin} are open (maxConnections)` } });
    }
  }

  function begin(kind: ResolvedTransport, release: () => void): void {
    const attempt: Attempt = startAttempt(
      {
        kind,
        url,
        method: body !== undefined ? 'POST' : options.method,
        ...(body !== undefined && { body }),
        withCredentials: options.withCredentials,
        lastEventId,
        eventTypes,
        headers: options.headers,
        heartbeatTimeoutMs: options.heartbeatTimeoutMs,
        prelude: !!options.prelude,
      },
      {
        headersFailed(error, fatal) {
          if (fatal) end({ state: 'closed', reason: 'refused', error: { code: 'headers', message: `${error} (${url})` } });
          else retry(toStatusError(error, 'headers'), backoff());
        },
        response(code, header) {
          const verdict = classifyResponse(code, header('content-type'));
          if (verdict.action === 'open') {
            unauthorizedInARow = 0;
            // Responses get through: a probe still out would hold a second request to the origin.
            probe?.();
            if (status.state !== 'open' || status.error) emit({ state: 'open', reason: 'opened', error: undefined });
            stableTimer ??= setTimeout(() => {
              if (status.attempt !== 0) emit({ reason: 'updated', attempt: 0 });
            }, stableAfterMs);
            return true;
          }
          const error = { ...verdict.error, message: `${verdict.error.message} (${url})` };
          if (verdict.action === 'stop' || verdict.action === 'fatal') end({ state: 'closed', reason: 'refused', error });
          else if (verdict.action === 'auth' && ++unauthorizedInARow === 1) retry(error, 0);
          else retry(error, backoff(parseRetryAfter(header('retry-after')) ?? 0));
          return false;
        },
        text(chunk) {
          heldBack = 0;
          parser.feed(chunk);
          releaseId();
        },
        event(event) {
          heldBack = 0;
          lastEventId = event.id;
          // The platform's EventSource parses for itself: the size limit is checked here instead.
          if (event.data.length > options.maxEventSize) return reportOversize(event.data.length);
          options.onEvent(event);
        },
        ended(recycle) {
          if (recycle) {
            // Long-poll answers and full XHR buffers are not failures. An answer with events is
            // followed at once; an empty one (the server had nothing) no sooner than the floor.
            const delay = attempt.gotEvents ? 0 : MIN_RETRY_MS - (Date.now() - attempt.sentAt);
            return follow(delay);
          }
          // A clean end is how servers rotate connections (a deploy, a proxy timeout): no error. The
          // server's `retry:` sets the wait, but never below the floor, and a stream that keeps
          // ending before it was stable backs off as a failing one would.
          const drawn = backoff();
          const quick = status.attempt > 0;
          const delay = serverRetryMs === undefined ? drawn : quick ? Math.max(serverRetryMs, drawn) : serverRetryMs;
          retry(undefined, Math.max(delay, MIN_RETRY_MS));
        },
        failed(error) {
          if (error instanceof RealtimeError && error.code === 'unsupported' && orderIndex + 1 < order.length) {
            return fallBack(order[orderIndex + 1]!, error.toJSON(), false);
          }
          retry(toStatusError(error, 'network'), backoff());
        },
        silent(timeoutMs) {
          // Headers came and the body did not, twice in a row: something between us and the server
          // holds the stream back. Without even headers nothing is proven yet (a slow server, a
          // browser queue full of the page's own requests): a probe finds out.
          if (attempt.gotResponse && !attempt.gotBytes && ++heldBack >= 2 && downgrade()) return;
          if (!attempt.gotResponse) startProbe();
          retry({ code: 'heartbeat-timeout', message: `No data from ${url} for ${timeoutMs} ms` }, backoff());
        },
        preludeMissing: downgrade,
      },
    );
    last = attempt;
    phase = { kind: 'attempt', attempt, release };
  }

  const onOnline = () => {
    if (status.state === 'reconnecting' && phase.kind === 'waiting') connection.reconnectNow();
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
      if (phase.kind === 'attempt') phase.attempt.listen(type);
    },
    reconnectNow() {
      if (phase.kind !== 'waiting' || status.state !== 'reconnecting') return;
      clearTimeout(phase.timer);
      phase.release?.();
      phase = { kind: 'idle' };
      connect();
    },
    restart(change = {}) {
      if (phase.kind === 'closed') return;
      if (change.url !== undefined) url = change.url;
      if (change.body !== undefined) body = change.body ?? undefined;
      if (change.lastEventId !== undefined) lastEventId = change.lastEventId;
      follow(0);
    },
    close() {
      if (phase.kind !== 'closed') end({ state: 'closed', reason: 'closed' });
    },
  };
  emit({});
  connect();
  return connection;
}
