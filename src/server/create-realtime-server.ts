import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONTROL_PREFIX } from '../protocol/wire.js';
import { checkFilter, type DisconnectFilter, type SharedFilter, type StreamMatcher } from './disconnect-filter.js';
import { answer } from './event-stream-response.js';
import type { ControlMessage, EventStore, StoredEvent } from './event-store.js';
import { createFanOut } from './fan-out.js';
import { ANONYMOUS, userOf, type Identity } from './identity.js';
import { memoryStore } from './memory-store.js';
import { isTopicName, isUserName } from './names.js';
import { createPresence, type TopicPresence } from './presence.js';
import { readSelection } from './read-selection.js';
import { createRevocations } from './revocations.js';
import type { ServeContext, ServerCounters } from './serve-context.js';
import { serveEvents } from './serve-events.js';
import { AuthenticationError, PublishError } from './server-errors.js';
import { PRESENCE_RECONCILE_MS, resolveServerOptions, type RealtimeServerOptions } from './server-options.js';
import { createStoreLink, StoreUnavailable } from './store-link.js';
import { createStreamRegistry, type OpenConnection } from './stream-registry.js';

export type { DisconnectFilter } from './disconnect-filter.js';
export type { PresenceMember, TopicPresence } from './presence.js';

/** An event to publish. */
export interface PublishInput {
  /** A topic name, well-formed Unicode. @default the server's `defaultTopic` */
  topic?: string | undefined;
  /** Event type; not starting with `ssemux:` (reserved for control events). @default 'message' */
  type?: string | undefined;
  /** The data: a string as it is, anything else JSON-encoded (`undefined` as empty). */
  data: unknown;
  /** Only connections of this user will see the event (a non-empty, well-formed string). @default everyone who reads the topic */
  user?: string | undefined;
}

/** What `stats()` reports. */
export interface RealtimeServerStats extends ServerCounters {
  /** Open streams and held long-polls, now. */
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
  /**
   * Appends an event to the log; resolves with its cursor once stored. Rejects with a
   * TypeError for an invalid event, and with a {@link PublishError} when the store does not
   * confirm it within `publishTimeoutMs` or `maxPendingPublishes` are already waiting.
   */
  publish(event: PublishInput): Promise<string>;
  /**
   * Ends the matching streams and held long-polls cleanly (e.g. of a revoked token), and
   * refuses matching requests that are still being authenticated or authorized. A `{ user,
   * topic }` filter reaches every server that shares the store (every instance on one Redis);
   * resolves with how many were ended in all, counting the instances that answered within
   * `controlTimeoutMs`, and rejects when the store cannot carry the message (the streams of this
   * server are ended all the same). A function filter runs on this server only. A filter that
   * names no one (`{}`, `{ user: undefined }`) is a TypeError.
   */
  disconnect(filter: DisconnectFilter<I>): Promise<number>;
  /**
   * Who reads `topic` now, over every server that shares the store: each user with how many
   * connections (browsers) it has on the topic, sorted by user, and the anonymous connections.
   * A count falls `presenceGraceMs` after the connections went. Waits for the server's first
   * exchange with the others of the store; rejects while the store is unavailable, and when
   * the `presence` option is off.
   */
  presence(topic: string): Promise<TopicPresence>;
  stats(): RealtimeServerStats;
  /**
   * Ends every stream, stops the heartbeat timer, leaves the store's group, ends the store
   * subscription, and closes the store if the server made it. Later requests are answered `503`.
   */
  close(): Promise<void>;
}

/** The control message `disconnect` sends to the other instances. */
interface DisconnectMessage extends ControlMessage {
  type: 'disconnect';
  filter: SharedFilter;
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
  const revocations = createRevocations();
  const presence = config.presence
    ? createPresence({
        graceMs: config.presenceGraceMs,
        batchMs: config.presenceBatchMs,
        maxMembers: config.maxPresenceMembers,
        syncTimeoutMs: config.controlTimeoutMs,
        retryMs: config.storeRetryMs,
        reconcileMs: PRESENCE_RECONCILE_MS,
      })
    : null;
  const counters: ServerCounters = { connections: 0, eventsSent: 0, eventsPublished: 0 };
  let pendingPublishes = 0;
  /** Set by the first `close()`: what it does, and what every later call waits for. */
  let closing: Promise<void> | undefined;

  const endAll = (connections: Iterable<OpenConnection<I>>) => {
    for (const connection of connections) connection.end();
  };
  const fanOut = createFanOut(registry, {
    sliceMs: config.fanOutSliceMs,
    maxBacklog: config.maxFanOutBacklog,
    overflow: (behind) => {
      config.onError(new Error(`ssemux/server: the fan-out fell ${config.maxFanOutBacklog} events behind; ${behind.size} streams ended to resume from their cursors`));
      endAll(behind);
    },
  });

  /** Ends this server's matching connections, and refuses matching requests in admission. */
  const endLocal = (matches: StreamMatcher<I>): number => {
    revocations.record(matches as StreamMatcher<unknown>);
    const picked = registry.list((connection) => matches(connection.identity, connection.topics));
    endAll(picked);
    return picked.length;
  };

  const link = createStoreLink({
    store,
    retryMs: config.storeRetryMs,
    onError: config.onError,
    listener: {
      event: (event: StoredEvent) => fanOut.push(event),
      lost(error) {
        if (error) config.onError(error);
        // They resume from their cursors, which the store answers exactly.
        endAll(registry.list());
      },
    },
    joined: (membership) => presence?.joined(membership),
    member: {
      memberGone: (id) => presence?.memberGone(id),
      rejoined: () => presence?.rejoined(),
      receive(message) {
        const answer = presence?.receive(message);
        if (answer) return answer;
        if (closing || message.type !== 'disconnect') return 0;
        const { filter } = message as DisconnectMessage;
        try {
          return endLocal(checkFilter<I>(filter as DisconnectFilter<I>).matches);
        } catch {
          return 0; // not a filter this version understands
        }
      },
    },
  });
  const ctx: ServeContext<I> = { config, store, registry, counters, link, presence };

  /** Calls an application callback; a throw is the application's failure, answered `500`. */
  const appCall = async <T>(call: () => T | Promise<T>): Promise<{ value: T } | { error: unknown }> => {
    try {
      return { value: await call() };
    } catch (error) {
      return { error };
    }
  };

  async function serve(req: IncomingMessage, res: ServerResponse, gone: () => boolean): Promise<void> {
    if (closing) return answer(res, 503, 'the server is closing', { 'Retry-After': '1' });
    if (req.method !== 'GET' && req.method !== 'POST') return answer(res, 405, 'GET or POST', { Allow: 'GET, POST' });
    // Joined first: from here on, a disconnect on any instance reaches this server, so the
    // admission below cannot miss one.
    await link.ready();
    const admission = revocations.admit();
    try {
      const authenticated = await appCall(() => authenticate(req));
      if ('error' in authenticated && !(authenticated.error instanceof AuthenticationError)) {
        config.onError(authenticated.error);
        return answer(res, 500, 'authentication failed');
      }
      const identity = 'value' in authenticated ? authenticated.value : null;
      if (identity === null || identity === undefined) {
        return answer(res, 401, 'not authenticated', { 'WWW-Authenticate': config.challenge });
      }
      let user: string | undefined;
      try {
        user = userOf(identity);
      } catch (error) {
        config.onError(error);
        return answer(res, 500, 'authentication failed');
      }
      const selection = await readSelection(req, config);
      if ('status' in selection) {
        if (selection.status !== 413) return answer(res, selection.status, selection.error);
        // The rest of the body is not read: the connection cannot carry another request.
        answer(res, 413, selection.error, { Connection: 'close' });
        return;
      }
      let topics = selection.topics;
      if (!topics) {
        const chosen = await appCall(() => defaultTopics(req));
        if ('error' in chosen) {
          config.onError(chosen.error);
          return answer(res, 500, 'defaultTopics failed');
        }
        // An array of names: a string is iterable too, and would be read as one topic per character.
        topics = Array.isArray(chosen.value) ? [...new Set(chosen.value)] : [];
        if (topics.length === 0 || !topics.every(isTopicName)) {
          config.onError(new TypeError('defaultTopics must return topic names'));
          return answer(res, 500, 'defaultTopics failed');
        }
      }

      const allowed: string[] = [];
      const denied: string[] = [];
      for (const topic of topics) {
        const allows = await appCall(() => authorize(identity, topic));
        if ('error' in allows) {
          config.onError(allows.error);
          return answer(res, 500, 'authorization failed');
        }
        (allows.value ? allowed : denied).push(topic);
      }
      if (allowed.length === 0) return answer(res, 204);
      if (gone()) return;

      const request = {
        identity,
        user,
        topics: allowed,
        denied,
        withTopic: selection.topics !== null,
        cursor: selection.cursor,
        presence: selection.presence && selection.topics !== null && presence !== null,
        admission,
      };
      await serveEvents(ctx, res, request, selection.longPoll && config.longPoll ? 'long-poll' : 'sse');
    } finally {
      admission.done();
    }
  }

  return {
    async handler(req, res) {
      let gone = false;
      res.once('close', () => (gone = true));
      try {
        await serve(req, res, () => gone);
      } catch (error) {
        // What is left is the store failing (or going away): try again shortly. An outage was
        // reported once when it began; each request it turns away is not.
        if (!(error instanceof StoreUnavailable)) config.onError(error);
        if (!res.headersSent) answer(res, 503, 'the event store is unavailable', { 'Retry-After': '1' });
        else res.end();
      }
    },

    async publish(event) {
      if (closing) throw new Error('createRealtimeServer: closed');
      // Only a topic (or type) left out takes the default: a null one is a mistake (a lookup that
      // found nothing), and publishing it to the default topic would show it to everyone there.
      const topic = event.topic === undefined ? config.defaultTopic : event.topic;
      const type = event.type === undefined ? 'message' : event.type;
      if (!isTopicName(topic)) throw new TypeError(`publish: invalid topic ${JSON.stringify(topic)}`);
      if (typeof type !== 'string' || !type || /[\r\n]/.test(type) || type.startsWith(CONTROL_PREFIX)) {
        throw new TypeError(`publish: invalid type ${JSON.stringify(type)}`);
      }
      if (event.user !== undefined && !isUserName(event.user)) throw new TypeError('publish: user must be a non-empty, well-formed string');
      const data = typeof event.data === 'string' ? event.data : (JSON.stringify(event.data) ?? '');
      if (pendingPublishes >= config.maxPendingPublishes) {
        throw new PublishError('too-many-pending', `publish: ${pendingPublishes} publishes are already waiting for the store`);
      }
      pendingPublishes++;
      const appended = store.append({ topic, type, data, user: event.user });
      const settled = () => void pendingPublishes--;
      appended.then(settled, settled);
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const stored = await Promise.race([
          appended,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new PublishError('timeout', `publish: the store did not confirm within ${config.publishTimeoutMs} ms`)), config.publishTimeoutMs);
          }),
        ]);
        counters.eventsPublished++;
        return stored.cursor;
      } catch (error) {
        if (error instanceof PublishError) throw error;
        throw new PublishError('store-failed', `publish: the store failed: ${(error as Error)?.message ?? error}`, { cause: error });
      } finally {
        clearTimeout(timer);
      }
    },

    async disconnect(filter) {
      const { shared, matches } = checkFilter(filter);
      let ended = endLocal(matches);
      if (!shared || closing) return ended;
      try {
        const membership = await link.membership();
        const message: DisconnectMessage = { type: 'disconnect', filter: shared };
        const { answers } = await membership.broadcast(message, config.controlTimeoutMs);
        for (const count of answers) if (typeof count === 'number') ended += count;
      } catch (error) {
        throw new Error(`disconnect: ended ${ended} streams on this server, but could not reach the other servers of the store`, { cause: error });
      }
      return ended;
    },

    async presence(topic) {
      if (!presence) throw new Error('presence: the server was created with presence: false');
      if (!isTopicName(topic)) throw new TypeError(`presence: invalid topic ${JSON.stringify(topic)}`);
      await link.membership();
      await presence.synced();
      return presence.of(topic);
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

    close() {
      // A second call resolves when the first does: once the server has left the store's group.
      return (closing ??= (async () => {
        fanOut.close();
        endAll(registry.list());
        registry.close();
        await presence?.close();
        await link.close();
        if (ownsStore) await store.close();
      })());
    },
  };
}
