import type { ServerResponse } from 'node:http';
import type { EventStore, StoredEvent } from './event-store.js';
import { answer } from './event-stream-response.js';
import type { ServerConfig } from './server-options.js';
import type { OpenConnection, StreamRegistry } from './stream-registry.js';

/** Running totals of one server. */
export interface ServerCounters {
  /** Streams and long-polls answered `200`. */
  connections: number;
  /** Events written to clients, replays included. */
  eventsSent: number;
  /** Events published through this server's `publish()`. */
  eventsPublished: number;
}

/** What serving one `/events` response needs from its server. */
export interface ServeContext<I> {
  config: ServerConfig;
  store: EventStore;
  registry: StreamRegistry<I>;
  counters: ServerCounters;
  /** Resolves once the server's store subscription is live (see `EventStore.subscribe`). */
  ready(): Promise<void>;
}

/** One accepted request: who, which topics, from where. */
export interface ServeRequest<I> {
  identity: I;
  user: string | undefined;
  /** Allowed topics (at least one). */
  topics: readonly string[];
  /** Selected topics the identity may not read. */
  denied: readonly string[];
  /** A topic connection: the first data line of each event is its topic. */
  withTopic: boolean;
  /** The resume cursor as sent, or null. */
  cursor: string | null;
}

/** True when the connection may see `event` (its topic was already matched). */
export function isVisible(event: StoredEvent, user: string | undefined): boolean {
  return event.user === undefined || event.user === user;
}

/**
 * Registers `connection` first, so that no live event between now and the store subscription
 * being confirmed is missed, then waits for that. Resolves false when the response must not go
 * on: the client left, or the connection was ended meanwhile (answered `503`, try again).
 */
export async function admit<I>(
  ctx: ServeContext<I>,
  res: ServerResponse,
  connection: OpenConnection<I>,
  isEnded: () => boolean,
): Promise<boolean> {
  ctx.registry.add(connection);
  res.once('close', () => ctx.registry.remove(connection));
  try {
    await ctx.ready();
  } catch (error) {
    ctx.registry.remove(connection);
    throw error;
  }
  if (res.destroyed || res.writableEnded) return false;
  if (isEnded()) {
    answer(res, 503, 'the server is closing', { 'Retry-After': '1' });
    return false;
  }
  ctx.counters.connections++;
  return true;
}
