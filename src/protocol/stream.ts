import type { HeadersInit, ResolvedTransport, RealtimeStatus, TransportKind } from './types.js';

/**
 * Everything the hub needs to open one upstream. Plain data: it crosses into the worker.
 * Every field shapes the connection, so every field but `headers` is part of its key (the hub's `streamKey`):
 * clients share an upstream only when they would have opened the same one.
 */
export interface StreamSpec {
  /** Absolute URL, without the topics (the hub adds the union of its subscribers'). */
  url: string;
  transport: TransportKind;
  withCredentials: boolean;
  /** Identity of the credentials; `''` for none. Part of the key, so users never share. */
  credentialsKey: string;
  backoff: { initialMs: number; maxMs: number; factor: number };
  heartbeatTimeoutMs: number;
  headersTimeoutMs: number;
  maxConnections: number;
  maxEventSize: number;
  method: 'GET' | 'POST';
  body?: string;
  /** A topic stream (the ssemux server protocol): subscribers name topics, the upstream carries their union. */
  topics: boolean;
  /** Fixed headers, used when no subscriber has a provider. Named by `credentialsKey`, so not in the key. */
  headers?: HeadersInit;
}

/**
 * Where a subscriber stands in its stream. Plain data, held by the tab, so that it survives the
 * hub: after a worker restart or a leader takeover the tab resubscribes from it.
 *
 * `id` is what the upstream resumes from (`Last-Event-ID`). Ids are opaque, so `count` and
 * `lineage` order positions: `count` counts the events of the lineage. A stream opened from
 * nothing starts a lineage; one opened from a position continues that position's lineage,
 * numbering the replayed events as the first upstream numbered them. On a topic stream ids are
 * protocol cursors, which order themselves whatever the topics (a replay with other topics
 * numbers differently).
 */
export interface Position {
  id: string;
  count: number;
  lineage: string;
}

/** A subscriber that has seen nothing yet. */
export const START: Position = { id: '', count: 0, lineage: '' };

/** True for a subscriber that has seen nothing yet: it starts where the stream stands. */
export function isStart(position: Position): boolean {
  return position.id === '' && position.count === 0;
}

/** Status as the engine knows it; the sharing mode is added by the client. */
export type ConnectionStatus = Omit<RealtimeStatus, 'sharing' | 'transport'> & {
  transport: ResolvedTransport;
};

/**
 * What a subscriber listens to. `types`: event types, `'*'` among them meaning every type (the
 * other names still matter then: the native EventSource reports only types someone named).
 * `topics`: on a topic stream, the topics it receives.
 */
export interface Filter {
  types: readonly string[];
  topics?: readonly string[];
  /**
   * Types (among `types`) it has `tabs: 'one'` listeners for: each event of such a type is handed
   * to one subscriber of the origin among those that name it, which runs those listeners.
   */
  one?: readonly string[];
  /**
   * Types (among `types`) whose `latest: true` listeners wait for the last event of their type:
   * the hub sends it with its next frame, and keeps the last event of these types from now on.
   */
  latest?: readonly string[];
}

/** The tabs attached to a stream: how many, and how many of them are visible. */
export interface TabCount {
  count: number;
  visible: number;
}
