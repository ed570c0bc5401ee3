/**
 * React hooks over a {@link RealtimeClient}: `ssemux/react`. They only subscribe and unsubscribe;
 * create the client yourself (once, outside render) and pass it in. Each accepts `null` or
 * `undefined` for the client (the usual `typeof window` guard of a server render, or a client
 * not created yet): they then subscribe to nothing and return their default.
 *
 * Only types come from the core, so this bundle has no runtime dependency on it: it works with
 * whichever copy of `ssemux` created the client.
 */
import { useEffect, useLayoutEffect, useRef, useSyncExternalStore } from 'react';
import type { Listener, RealtimeClient } from '../client/create-realtime-client.js';
import type { EventMap, PresenceData, RealtimeMessage, RealtimeStatus } from '../protocol/types.js';

/**
 * Calls `handler` for every event of `type` (or of every type with `'*'`) the client receives
 * while the component is mounted.
 *
 * The subscription is made once per client and type, not per render: the handler may be a new
 * function on every render, and the latest one rendered is the one called.
 *
 * @example
 * useRealtimeEvent(client, 'notification', (msg) => toast(msg.data.title));
 */
export function useRealtimeEvent<E extends EventMap, K extends keyof E & string>(
  client: RealtimeClient<E> | null | undefined,
  type: K,
  handler: Listener<E[K], K>,
): void;
export function useRealtimeEvent<E extends EventMap>(
  client: RealtimeClient<E> | null | undefined,
  type: '*',
  handler: Listener<E[keyof E], keyof E & string>,
): void;
export function useRealtimeEvent<E extends EventMap>(
  client: RealtimeClient<E> | null | undefined,
  type: 'ssemux:presence',
  handler: Listener<PresenceData, 'ssemux:presence'>,
): void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function useRealtimeEvent(client: RealtimeClient | null | undefined, type: string, handler: Listener<any, any>): void {
  const latest = useRef(handler);
  // Updated after commit, before any event the new render could be called for (effects do not
  // run in a server render, so useLayoutEffect's warning there does not apply to React 19).
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useEffect(() => client?.on(type, (message: RealtimeMessage) => latest.current(message)), [client, type]);
}

/**
 * The `data` of the latest event of `type` (or of any type with `'*'`), `undefined` before any
 * (and on the server, and while the browser hydrates a server render). A component mounted in a
 * new tab renders the last event the shared stream carried at once (`latest: true`), without
 * waiting for the next one.
 *
 * The component re-renders only when the value changes: an event whose data is the same value
 * (`Object.is`) or has the same type and raw text as the previous one does not re-render. All components
 * reading the same client and type share one subscription, and the value survives remounts (for
 * the 32 types of the client read most recently).
 *
 * @example
 * const stats = useRealtimeLatest(client, 'stats'); // Events['stats'] | undefined
 */
export function useRealtimeLatest<E extends EventMap, K extends keyof E & string>(
  client: RealtimeClient<E> | null | undefined,
  type: K,
): E[K] | undefined;
export function useRealtimeLatest<E extends EventMap>(client: RealtimeClient<E> | null | undefined, type: '*'): E[keyof E] | undefined;
export function useRealtimeLatest<E extends EventMap>(client: RealtimeClient<E> | null | undefined, type: 'ssemux:presence'): PresenceData | undefined;
export function useRealtimeLatest(client: RealtimeClient | null | undefined, type: string): unknown {
  const store = client ? latestStore(client, type) : NO_VALUE;
  return useSyncExternalStore(store.subscribe, store.get, NO_VALUE.get);
}

/**
 * The client's {@link RealtimeStatus}; the component re-renders on every status change (state,
 * transport, sharing, attempt, error).
 *
 * `lastEventId` is as of the latest render: events alone do not re-render (read
 * `client.status.lastEventId`, or use {@link useRealtimeEvent}, to follow every event).
 *
 * @example
 * const { state, transport } = useRealtimeStatus(client);
 */
export function useRealtimeStatus<E extends EventMap>(client: RealtimeClient<E> | null | undefined): RealtimeStatus {
  const store = client ? statusStore(client as RealtimeClient) : NO_STATUS;
  return useSyncExternalStore(store.subscribe, store.get, NO_STATUS.get);
}

/**
 * What {@link useRealtimeStatus} returns without a client, on the server, and while the browser
 * hydrates a server render (so that both render the same); the client's own status from then on.
 */
export const INITIAL_STATUS: RealtimeStatus = Object.freeze({ state: 'connecting', reason: 'started', transport: 'fetch', sharing: 'none', attempt: 0, lastEventId: '' });

// --- the small external stores useSyncExternalStore reads ---------------------------------------

interface Store<T> {
  subscribe: (onChange: () => void) => () => void;
  get: () => T;
  /** No component reads it now. */
  idle?: () => boolean;
}

const unsubscribed = () => {};
const NO_VALUE: Store<unknown> = { subscribe: () => unsubscribed, get: () => undefined };
const NO_STATUS: Store<RealtimeStatus> = { subscribe: () => unsubscribed, get: () => INITIAL_STATUS };
const latestStores = new WeakMap<RealtimeClient, Map<string, Store<unknown>>>();
/**
 * Stores no component reads keep their value for a remount, but only for this many types per
 * client: an app that reads types made on the fly (`job-${id}`) must not collect them for ever.
 */
const IDLE_STORES = 32;
const statusStores = new WeakMap<RealtimeClient, Store<RealtimeStatus>>();

/** One store per client and type, subscribed to the client while some component reads it. */
function latestStore(client: RealtimeClient, type: string): Store<unknown> {
  let byType = latestStores.get(client);
  if (!byType) latestStores.set(client, (byType = new Map()));
  let store = byType.get(type);
  if (store) return store;

  let value: unknown;
  let text: string | undefined;
  let eventType: string | undefined;
  let off: (() => void) | undefined;
  const readers = new Set<() => void>();
  const map = byType;
  const onMessage = (message: RealtimeMessage): void => {
    if (Object.is(message.data, value) || (message.type === eventType && message.text === text)) return;
    value = message.data;
    text = message.text;
    eventType = message.type;
    for (const reader of [...readers]) reader();
  };
  store = {
    subscribe(onChange) {
      readers.add(onChange);
      // Handed out by a render and evicted before its effect ran (other readers went idle in the
      // same commit): it is this type's store again, or the next render would make another.
      if (!map.has(type)) map.set(type, store!);
      // latest: a new tab renders the stream's current value at once, not at its next event.
      off ??= client.on(type, onMessage, { latest: true });
      return () => {
        readers.delete(onChange);
        if (readers.size > 0 || !off) return;
        off();
        off = undefined;
        // Now idle: the most recently used idle store, the oldest idle ones beyond the bound go.
        if (map.get(type) !== store) return;
        map.delete(type);
        map.set(type, store!);
        let idle = 0;
        for (const [name, other] of [...map].reverse()) if (other.idle?.() && ++idle > IDLE_STORES) map.delete(name);
      };
    },
    get: () => value,
    idle: () => readers.size === 0,
  };
  byType.set(type, store);
  return store;
}

/** `client.status` with stable `subscribe`/`get` functions, one pair per client. */
function statusStore(client: RealtimeClient): Store<RealtimeStatus> {
  let store = statusStores.get(client);
  if (!store) {
    store = { subscribe: (onChange) => client.onStatus(onChange), get: () => client.status };
    statusStores.set(client, store);
  }
  return store;
}
