import { backoffDelay } from '../engine/backoff.js';
import { transportOrder } from '../engine/transports/select-transport.js';
import { clampDelay } from '../protocol/defaults.js';
import { RealtimeError, namedError, toStatusError } from '../protocol/errors.js';
import { START, type ConnectionStatus, type Filter, type Position, type StreamSpec } from '../protocol/stream.js';
import type { EventMap, HeadersInit, RealtimeClientOptions, RealtimeMessage, RealtimeStatus, StatusError, WireEvent } from '../protocol/types.js';
import type { LinkSubscription } from '../sharing/link.js';
import { credentialsKeyOf } from './credentials-key.js';
import { toHeaders } from './headers-answer.js';
import { checkTopics, resolveOptions } from './resolve-options.js';
import { sharingOrder } from './sharing-order.js';

/** A listener of one event type, or of every type with `'*'`. */
export type Listener<T = unknown, K extends string = string> = (message: RealtimeMessage<T, K>) => void;

/** What {@link createRealtimeClient} returns. */
export interface RealtimeClient<E extends EventMap = EventMap> {
  /** Listens to one event type; returns the function that stops listening. */
  on<K extends keyof E & string>(type: K, listener: Listener<E[K], K>): () => void;
  /**
   * Listens to every event. With the native `eventsource` transport, "every" means `message` and
   * the types some listener named: the platform reports no other.
   */
  on(type: '*', listener: Listener<E[keyof E], keyof E & string>): () => void;
  /** The current status; `lastEventId` is current whenever read. */
  readonly status: RealtimeStatus;
  /** Called on every change of state, transport, sharing, attempt or error; returns the unsubscribe function. */
  onStatus(listener: (status: RealtimeStatus) => void): () => void;
  /**
   * Replaces this client's topics (a client created with `topics`): events of topics it drops stop
   * at once; topics it adds are read from now, with at most one reconnect of the shared upstream
   * per short window, which loses and repeats nothing of the topics that stay.
   */
  setTopics(topics: readonly string[]): void;
  /** Stops the stream for this client at once; other tabs sharing it are not affected. */
  close(): void;
}

/** An answer kept for the next request (see `kept`) serves it if the hub asks this soon. */
const KEPT_ANSWER_FRESH_MS = 10_000;

/**
 * Opens a realtime stream shared by every tab of the origin (see {@link RealtimeClientOptions}).
 * Throws a `RealtimeError` with code `invalid-options` when an option cannot be used.
 */
export function createRealtimeClient<E extends EventMap = EventMap>(options: RealtimeClientOptions): RealtimeClient<E> {
  const o = resolveOptions(options);
  const links = sharingOrder(o);
  const parse =
    o.parse === 'json' ? (text: string) => JSON.parse(text) as unknown : o.parse === 'text' ? (text: string) => text : o.parse;
  const provider = typeof o.headers === 'function' ? o.headers : undefined;
  const listeners = new Map<string, Set<Listener>>();
  let topics = o.topics;
  const statusListeners = new Set<(status: RealtimeStatus) => void>();
  let linkIndex = 0;
  let subscription: LinkSubscription | undefined;
  let spec: StreamSpec | undefined;
  /** Where this client stands in its stream: it resubscribes from here, wherever the hub is. */
  let position: Position = START;
  let closed = false;
  let startAttempt = 0;
  let startTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * An answer the provider already gave, kept for the next request so that it is asked once per
   * attempt: the start-up answer (which named the credentials), or the answer that moved this
   * client to another stream (a rotating token would otherwise move it again at every ask).
   */
  let kept: { headers: HeadersInit; at: number } | undefined;
  /** Why sharing or transport differ from what was asked: set by this client and by the engine. */
  let sharingReason = links[0]!.reason;
  let transportReason: string | undefined;

  const firstTransport = transportOrder(o.transport, { headers: o.headers !== undefined, post: o.method === 'POST' })[0]!;
  let status: RealtimeStatus = withReason({ state: 'connecting', transport: firstTransport, sharing: links[0]!.sharing, attempt: 0, lastEventId: '' });

  function withReason(s: RealtimeStatus): RealtimeStatus {
    const reason = [sharingReason, transportReason].filter(Boolean).join('; ');
    if (reason) s.fallbackReason = reason;
    else delete s.fallbackReason;
    if (s.error) s.error = namedError(s.error);
    return s;
  }

  function setStatus(next: RealtimeStatus): void {
    status = next;
    for (const listener of [...statusListeners]) {
      try {
        listener(next);
      } catch (error) {
        report(error);
      }
    }
  }

  function fromLink(s: ConnectionStatus): void {
    if (closed) return;
    transportReason = s.fallbackReason;
    setStatus(withReason({ ...s, sharing: links[linkIndex]!.sharing, lastEventId: position.id }));
  }

  function filter(): Filter {
    return topics ? { types: [...listeners.keys()], topics } : { types: [...listeners.keys()] };
  }

  // The per-event path on the tab side: parse once, call the type's listeners, then '*'.
  function deliver(events: WireEvent[], at: Position): void {
    if (closed) return;
    const all = listeners.get('*');
    for (const event of events) {
      // An event whose type is '*' goes to the '*' listeners once.
      const own = event.type === '*' ? undefined : listeners.get(event.type);
      if (!own && !all) continue;
      let data: unknown;
      try {
        data = parse(event.data, event.type);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        setStatus(withReason({ ...status, lastEventId: position.id, error: { code: 'parse', message: `Event ${event.id || event.type}: ${message}` } }));
        continue;
      }
      const message: RealtimeMessage = { type: event.type, data, text: event.data, lastEventId: event.id };
      if (event.topic !== undefined) message.topic = event.topic;
      if (own) call(own, message);
      if (all) call(all, message);
    }
    position = at;
  }

  function call(set: Set<Listener>, message: RealtimeMessage): void {
    for (const listener of set) {
      try {
        listener(message);
      } catch (error) {
        report(error);
      }
    }
  }

  /** Calls the provider once, within `headersTimeoutMs`, and checks its answer. */
  async function ask(): Promise<HeadersInit> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return toHeaders(
        await Promise.race([
          Promise.resolve().then(provider!),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new RealtimeError('headers', `The headers provider did not answer within ${o.headersTimeoutMs} ms (headersTimeoutMs)`)),
              o.headersTimeoutMs,
            );
          }),
        ]),
      );
    } catch (error) {
      throw error instanceof RealtimeError ? error : new RealtimeError('headers', `The headers provider failed: ${toStatusError(error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Headers for the hub, before an attempt. Every answer is keyed: an answer of other credentials
   * (a logout and login in this tab) moves this client to their stream, and is never used for
   * the stream it was on.
   */
  async function headersForHub(): Promise<HeadersInit> {
    const cached = kept;
    kept = undefined;
    const headers = cached && Date.now() - cached.at < KEPT_ANSWER_FRESH_MS ? cached.headers : await ask();
    if (closed || !spec) throw new RealtimeError('headers', 'This client is closed');
    if (o.credentialsKey === undefined) {
      const key = credentialsKeyOf(headers);
      if (key !== spec.credentialsKey) {
        kept = { headers, at: Date.now() };
        moveTo(key);
        throw new RealtimeError('headers', 'The credentials of this client changed: it moved to their stream');
      }
    }
    return headers;
  }

  function moveTo(credentialsKey: string): void {
    subscription?.close();
    spec = { ...spec!, credentialsKey };
    subscribe();
  }

  function subscribe(): void {
    const link = links[linkIndex]!.create(spec!);
    subscription = link.subscribe({
      spec: spec!,
      filter,
      position: () => position,
      ...(provider ? { headers: headersForHub } : {}),
      onEvents: deliver,
      onStatus: fromLink,
      onLost(error: StatusError) {
        subscription = undefined;
        if (closed) return;
        if (linkIndex + 1 < links.length) {
          linkIndex++;
          // Every mode passed over says why: the reason for this one, after those before it.
          sharingReason = [sharingReason, error.message].filter(Boolean).join('; ');
          setStatus(withReason({ ...status, state: 'connecting', sharing: links[linkIndex]!.sharing, lastEventId: position.id, error }));
          subscribe();
        } else {
          setStatus(withReason({ ...status, state: 'closed', lastEventId: position.id, error }));
        }
      },
    });
  }

  async function start(): Promise<void> {
    startTimer = undefined;
    if (closed) return;
    let credentialsKey = o.credentialsKey;
    if (credentialsKey === undefined) {
      if (provider) {
        try {
          // The first answer names the credentials and serves the first request.
          const headers = await ask();
          kept = { headers, at: Date.now() };
          credentialsKey = credentialsKeyOf(headers);
        } catch (error) {
          if (closed) return;
          // Without headers the credentials have no name, and sharing without one could mix users.
          const retryInMs = clampDelay(backoffDelay(++startAttempt, o.backoff));
          setStatus(withReason({ ...status, state: 'reconnecting', attempt: startAttempt, retryInMs, error: toStatusError(error, 'headers') }));
          startTimer = setTimeout(() => void start(), retryInMs);
          return;
        }
      } else {
        credentialsKey = credentialsKeyOf((o.headers as HeadersInit | undefined) ?? {});
      }
    }
    if (closed) return;
    spec = {
      url: o.url,
      transport: o.transport,
      withCredentials: o.withCredentials,
      credentialsKey,
      backoff: o.backoff,
      heartbeatTimeoutMs: o.heartbeatTimeoutMs,
      headersTimeoutMs: o.headersTimeoutMs,
      maxConnections: o.maxConnections,
      maxEventSize: o.maxEventSize,
      method: o.method,
      topics: topics !== undefined,
      ...(o.body !== undefined ? { body: o.body } : {}),
      ...(provider || !o.headers ? {} : { headers: o.headers as HeadersInit }),
    };
    subscribe();
  }

  void start();

  return {
    on(type: string, listener: Listener<never, never>) {
      let set = listeners.get(type);
      const isNew = !set;
      if (!set) listeners.set(type, (set = new Set()));
      const fn = listener as Listener;
      set.add(fn);
      if (isNew) subscription?.update(filter());
      return () => {
        if (!set.delete(fn) || set.size > 0 || listeners.get(type) !== set) return;
        listeners.delete(type);
        subscription?.update(filter());
      };
    },
    get status() {
      if (status.lastEventId !== position.id) status = { ...status, lastEventId: position.id };
      return status;
    },
    setTopics(next: readonly string[]) {
      if (!topics) throw new RealtimeError('invalid-options', 'ssemux: setTopics needs a client created with the topics option');
      topics = checkTopics(next, 'setTopics');
      subscription?.update(filter());
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(startTimer);
      subscription?.close();
      subscription = undefined;
      const { error: _error, retryInMs: _retry, ...rest } = status;
      setStatus({ ...rest, state: 'closed', lastEventId: position.id });
    },
  } as RealtimeClient<E>;
}

function report(error: unknown): void {
  const g = globalThis as { reportError?: (error: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(error);
  else setTimeout(() => { throw error; });
}
