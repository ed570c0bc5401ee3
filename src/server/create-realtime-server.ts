import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTopic } from '../protocol/topic-name.js';
import { CONTROL_PREFIX } from '../protocol/wire.js';
import { answer } from './event-stream-response.js';
import type { EventStore } from './event-store.js';
import { ANONYMOUS, userOf, type Identity } from './identity.js';
import { memoryStore } from './memory-store.js';
import { readSelection } from './read-selection.js';
import type { ServeContext, ServeRequest, ServerCounters } from './serve-context.js';
import { serveLongPoll } from './serve-long-poll.js';
import { serveStream } from './serve-stream.js';
import { resolveServerOptions, type RealtimeServerOptions } from './server-options.js';
import { createStreamRegistry } from './stream-registry.js';

/** An event to publish. */
export interface PublishInput {
  /** @default the server's `defaultTopic` */
  topic?: string | undefined;
  /** Event type; not starting with `ssemux:` (reserved for control events). @default 'message' */
  type?: string | undefined;
  /** The data: a string as it is, anything else JSON-encoded (`undefined` as empty). */
  data: unknown;
  /** Only connections of this user will see the event. @default everyone who reads the topic */
  user?: string | undefined;
}

/**
 * Which open streams `disconnect` ends: those of a user and/or carrying a topic, or those a
 * predicate picks.
 */
export type DisconnectFilter<I> =
  | { user?: string; topic?: string }
  | ((identity: I, topics: readonly string[]) => boolean);

/** What `stats()` reports. */
export interface RealtimeServerStats extends ServerCounters {
  /** Open streams and held long-polls. */
  openStreams: number;
  openSse: number;
  openLongPoll: number;
  /** Open streams and long-polls per topic they carry. */
  perTopic: Record<string, number>;
}

/** A running ssemux server. */
export interface RealtimeServer<I extends Identity = Identity> {
  /**
   * Answers `GET` and `POST` requests of the events endpoint: `app.get('/events', handler)`
   * and `app.post('/events', handler)` in Express, or `http.createServer(handler)`. It reads a
   * JSON body itself unless a body parser already did (`req.body`). Never rejects.
   */
  handler(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Appends an event to the log; resolves with its cursor once stored. */
  publish(event: PublishInput): Promise<string>;
  /** Ends the matching streams cleanly (e.g. of a revoked token); returns how many. */
  disconnect(filter: DisconnectFilter<I>): number;
  stats(): RealtimeServerStats;
  /**
   * Ends every stream, stops the heartbeat timer and the store subscription, and closes the
   * store if the server made it. Later requests are answered `503`.
   */
  close(): Promise<void>;
}

/**
 * Creates the server half of ssemux: the events endpoint of the server protocol in the README on top of
 * an {@link EventStore}, and `publish()` to feed it.
 *
 * @example
 * const realtime = createRealtimeServer({ authenticate: (req) => userFromCookie(req) });
 * app.get('/events', realtime.handler);
 * app.post('/events', express.json(), realtime.handler);
 * await realtime.publish({ topic: 'orders', type: 'created', data: order });
 */
export function createRealtimeServer<I extends Identity = Identity>(options: RealtimeServerOptions<I> = {}): RealtimeServer<I> {
  const config = resolveServerOptions(options);
  const store: EventStore = options.store ?? memoryStore();
  const ownsStore = !options.store;
  const authenticate = options.authenticate ?? (() => ANONYMOUS as I);
  const authorize = options.authorize ?? (() => true);
  const defaultTopics = options.defaultTopics ?? (() => [config.defaultTopic]);
  const registry = createStreamRegistry<I>(config.heartbeatMs);
  const counters: ServerCounters = { connections: 0, eventsSent: 0, eventsPublished: 0 };
  let closed = false;

  // One store subscription for the whole server, made with the first stream; every open
  // connection of a topic gets its events from it.
  let subscription: Promise<() => void> | null = null;
  const ready = async () => {
    subscription ??= store.subscribe({
      event: (event) => registry.dispatch(event),
      lost: (error) => {
        subscription = null;
        if (error) config.onError(error);
        // They resume from their cursors, which the store answers exactly.
        for (const connection of registry.list()) connection.end();
      },
    });
    try {
      await subscription;
    } catch (error) {
      subscription = null;
      throw error;
    }
  };
  const ctx: ServeContext<I> = { config, store, registry, counters, ready };

  async function serve(req: IncomingMessage, res: ServerResponse, gone: () => boolean): Promise<void> {
    if (closed) return answer(res, 503, 'the server is closing', { 'Retry-After': '1' });
    if (req.method !== 'GET' && req.method !== 'POST') return answer(res, 405, 'GET or POST', { Allow: 'GET, POST' });
    const identity = await authenticate(req);
    if (identity === null || identity === undefined) {
      return answer(res, 401, 'not authenticated', { 'WWW-Authenticate': config.challenge });
    }
    const selection = await readSelection(req, config);
    if ('status' in selection) return answer(res, selection.status, selection.error);
    const topics = selection.topics ?? [...new Set(await defaultTopics(req))];
    if (topics.length === 0 || !topics.every(isTopic)) throw new TypeError('defaultTopics must return topic names');

    const allowed: string[] = [];
    const denied: string[] = [];
    for (const topic of topics) ((await authorize(identity, topic)) ? allowed : denied).push(topic);
    if (allowed.length === 0) return answer(res, 204);
    if (gone()) return;

    const request: ServeRequest<I> = {
      identity,
      user: userOf(identity),
      topics: allowed,
      denied,
      withTopic: selection.topics !== null,
      cursor: selection.cursor,
    };
    if (selection.longPoll && config.longPoll) await serveLongPoll(ctx, res, request);
    else await serveStream(ctx, res, request);
  }

  return {
    async handler(req, res) {
      let gone = false;
      res.once('close', () => (gone = true));
      try {
        await serve(req, res, () => gone);
      } catch (error) {
        config.onError(error);
        if (!res.headersSent) answer(res, 503, 'try again', { 'Retry-After': '1' });
        else res.end();
      }
    },

    async publish(event) {
      if (closed) throw new Error('createRealtimeServer: closed');
      const topic = event.topic ?? config.defaultTopic;
      const type = event.type ?? 'message';
      if (!isTopic(topic)) throw new TypeError(`publish: invalid topic ${JSON.stringify(topic)}`);
      if (typeof type !== 'string' || !type || /[\r\n]/.test(type) || type.startsWith(CONTROL_PREFIX)) {
        throw new TypeError(`publish: invalid type ${JSON.stringify(type)}`);
      }
      if (event.user !== undefined && (typeof event.user !== 'string' || !event.user)) throw new TypeError('publish: user must be a non-empty string');
      const data = typeof event.data === 'string' ? event.data : (JSON.stringify(event.data) ?? '');
      const stored = await store.append({ topic, type, data, user: event.user });
      counters.eventsPublished++;
      return stored.cursor;
    },

    disconnect(filter) {
      const picked = registry.list(
        typeof filter === 'function'
          ? (connection) => filter(connection.identity, connection.topics)
          : (connection) =>
              (filter.user === undefined || userOf(connection.identity) === filter.user) &&
              (filter.topic === undefined || connection.topics.includes(filter.topic)),
      );
      for (const connection of picked) connection.end();
      return picked.length;
    },

    stats() {
      return {
        openStreams: registry.count(),
        openSse: registry.count('sse'),
        openLongPoll: registry.count('long-poll'),
        perTopic: registry.perTopic(),
        ...counters,
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const connection of registry.list()) connection.end();
      registry.close();
      const unsubscribe = await subscription?.catch(() => undefined);
      unsubscribe?.();
      subscription = null;
      if (ownsStore) await store.close();
    },
  };
}
