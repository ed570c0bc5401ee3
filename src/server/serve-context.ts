import type { ServerResponse } from 'node:http';
import type { EventStore, StoredEvent } from './event-store.js';
import { answer } from './event-stream-response.js';
import type { Admission } from './revocations.js';
import type { Presence } from './presence.js';
import type { ServerConfig } from './server-options.js';
import type { StoreLink } from './store-link.js';
import type { OpenConnection, StreamRegistry } from './stream-registry.js';

/** Running totals of one server. */
export interface ServerCounters {
  /**
   * Responses answered `200` since the server started: every SSE stream, and every long-poll
   * answer (a long-poll client adds one per poll). Not the open ones: see `openStreams`.
   */
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
  link: StoreLink;
  /** Null when the `presence` option is off. */
  presence: Presence | null;
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
  /** A topic connection that asked for `ssemux:presence` events, on a server that counts presence. */
  presence: boolean;
  /** The request's admission, to check against the disconnects made since it arrived. */
  admission: Admission;
}

/** True when the connection may see `event` (its topic was already matched). */
export function isVisible(event: StoredEvent, user: string | undefined): boolean {
  return event.user === undefined || event.user === user;
}

/**
 * Registers `connection` first, so that no live event between now and the store subscription
 * being confirmed is missed, then waits for that. Resolves false when the response must not go
 * on: the client left, or a `disconnect` matched it since it arrived or it was ended meanwhile
 * (answered `503`, try again).
 */
export async function admit<I>(
  ctx: ServeContext<I>,
  res: ServerResponse,
  connection: OpenConnection<I>,
  request: ServeRequest<I>,
  isEnded: () => boolean,
): Promise<boolean> {
  const refuse = () => {
    answer(res, 503, 'ended by the server: try again', { 'Retry-After': '1' });
    return false;
  };
  // In one synchronous step: a disconnect runs either before it (and is in the admission's
  // list) or after it (and finds the connection in the registry).
  const revoked = request.admission.revoked(request.identity, request.topics);
  request.admission.done();
  if (revoked) return refuse();
  ctx.registry.add(connection);
  res.once('close', () => ctx.registry.remove(connection));
  try {
    await ctx.link.ready();
  } catch (error) {
    ctx.registry.remove(connection);
    throw error;
  }
  if (res.destroyed || res.writableEnded) return false;
  if (isEnded()) return refuse();
  ctx.counters.connections++;
  if (ctx.presence) res.once('close', ctx.presence.count(request.user, request.topics));
  return true;
}
