import { backoffDelay } from '../engine/backoff.js';
import { transportOrder } from '../engine/transports/select-transport.js';
import { toStatusError } from '../protocol/errors.js';
import type { ConnectionStatus, StreamSpec, TypeFilter } from '../protocol/stream.js';
import type {
  EventMap,
  HeadersInit,
  RealtimeClientOptions,
  RealtimeMessage,
  RealtimeStatus,
  WireEvent,
} from '../protocol/types.js';
import type { LinkSubscription } from '../sharing/link.js';
import { credentialsKeyOf } from './credentials-key.js';
import { createReplayGuard } from './replay-guard.js';
import { resolveOptions } from './resolve-options.js';
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
  /** Stops the stream for this client at once; other tabs sharing it are not affected. */
  close(): void;
}

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
  const statusListeners = new Set<(status: RealtimeStatus) => void>();
  let linkIndex = 0;
  let subscription: LinkSubscription | undefined;
  let spec: StreamSpec | undefined;
  let lastEventId = '';
  let closed = false;
  let startAttempt = 0;
  /** Why sharing or transport differ from what was asked: set by this client and by the engine. */
  let sharingReason = links[0]!.reason;
  let transportReason: string | undefined;
  const replays = createReplayGuard();
  let subscribedBefore = false;

  const firstTransport = transportOrder(o.transport, { headers: o.headers !== undefined, post: o.method === 'POST' })[0]!;
  let status: RealtimeStatus = withReason({ state: 'connecting', transport: firstTransport, sharing: links[0]!.sharing, attempt: 0, lastEventId });

  function withReason(s: RealtimeStatus): RealtimeStatus {
    const reason = [sharingReason, transportReason].filter(Boolean).join('; ');
    if (reason) s.fallbackReason = reason;
    else delete s.fallbackReason;
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
    setStatus(withReason({ ...s, sharing: links[linkIndex]!.sharing, lastEventId }));
  }

  function types(): TypeFilter {
    return [...listeners.keys()];
  }

  // The per-event path on the tab side: parse once, call the type's listeners, then '*'.
  function deliver(events: WireEvent[]): void {
    if (closed) return;
    const all = listeners.get('*');
    for (const event of events) {
      if (replays.isReplay(event.id)) continue;
      lastEventId = event.id;
      const own = listeners.get(event.type);
      if (!own && !all) continue;
      let data: unknown;
      try {
        data = parse(event.data, event.type);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        setStatus(withReason({ ...status, lastEventId, error: { code: 'parse', message: `Event ${event.id || event.type}: ${message}` } }));
        continue;
      }
      const message: RealtimeMessage = { type: event.type, data, text: event.data, lastEventId: event.id };
      if (own) call(own, message);
      if (all) call(all, message);
    }
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

  function subscribe(): void {
    const link = links[linkIndex]!.create(spec!);
    subscription = link.subscribe({
      spec: spec!,
      types,
      resumeFrom() {
        // A resubscription may resume from an older id than this tab reached.
        if (subscribedBefore) replays.arm();
        subscribedBefore = true;
        return lastEventId;
      },
      ...(provider ? { headers: async () => provider() } : {}),
      onEvents: deliver,
      onStatus: fromLink,
      onLost(error) {
        subscription = undefined;
        if (closed) return;
        if (linkIndex + 1 < links.length) {
          linkIndex++;
          sharingReason = error.message;
          setStatus(withReason({ ...status, state: 'connecting', sharing: links[linkIndex]!.sharing, lastEventId, error }));
          subscribe();
        } else {
          setStatus(withReason({ ...status, state: 'closed', lastEventId, error }));
        }
      },
    });
  }

  async function start(): Promise<void> {
    if (closed) return;
    let credentialsKey = o.credentialsKey;
    if (credentialsKey === undefined) {
      if (provider) {
        try {
          // The first answer names the credentials; the hub still asks again before each attempt.
          credentialsKey = credentialsKeyOf(await provider());
        } catch (error) {
          if (closed) return;
          // Without headers the credentials have no name, and sharing without one could mix users.
          const retryInMs = backoffDelay(++startAttempt, o.backoff);
          setStatus(withReason({ ...status, state: 'reconnecting', attempt: startAttempt, retryInMs, error: toStatusError(error, 'headers') }));
          setTimeout(() => void start(), retryInMs);
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
      maxEventSize: o.maxEventSize,
      method: o.method,
      dynamicHeaders: provider !== undefined,
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
      if (isNew) subscription?.setTypes(types());
      return () => {
        if (!set.delete(fn) || set.size > 0 || listeners.get(type) !== set) return;
        listeners.delete(type);
        subscription?.setTypes(types());
      };
    },
    get status() {
      if (status.lastEventId !== lastEventId) status = { ...status, lastEventId };
      return status;
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      subscription?.close();
      subscription = undefined;
      const { error: _error, retryInMs: _retry, ...rest } = status;
      setStatus({ ...rest, state: 'closed', lastEventId });
    },
  } as RealtimeClient<E>;
}

function report(error: unknown): void {
  const g = globalThis as { reportError?: (error: unknown) => void };
  if (typeof g.reportError === 'function') g.reportError(error);
  else setTimeout(() => { throw error; });
}

