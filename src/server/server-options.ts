import type { IncomingMessage } from 'node:http';
import { MAX_TIMER_MS } from '../protocol/delays.js';
import { isTopicName } from './names.js';
import type { EventStore } from './event-store.js';
import type { Identity } from './identity.js';

/** Options of `createRealtimeServer`; every one is optional. */
export interface RealtimeServerOptions<I extends Identity = Identity> {
  /**
   * The log events are published to and replayed from. A store passed in is not closed by
   * `close()`: it may serve other servers, and outlives this one.
   * @default memoryStore(), closed with the server
   */
  store?: EventStore;
  /**
   * Who the request is: a user name, an object with a `user` (and whatever else you need in
   * `authorize` and `disconnect`), or null/undefined for "not authenticated" (answered `401`
   * with `WWW-Authenticate`). Throwing answers `500`.
   * @default everyone is anonymous (sees only events published without `user`)
   */
  authenticate?: (req: IncomingMessage) => I | null | undefined | Promise<I | null | undefined>;
  /**
   * Whether `identity` may read `topic`. Denied topics are left out and named in
   * `ssemux:denied`; a request whose every topic is denied is answered `204`. Throwing is
   * answered `500` (and reported to `onError`).
   * @default every topic is allowed
   */
  authorize?: (identity: I, topic: string) => boolean | Promise<boolean>;
  /**
   * Topics of a plain connection (a request that names none).
   * @default `[defaultTopic]`
   */
  defaultTopics?: (req: IncomingMessage) => readonly string[] | Promise<readonly string[]>;
  /**
   * Topic of a `publish()` without one, and of plain connections.
   * @default 'main'
   */
  defaultTopic?: string;
  /**
   * A comment is written at least this often on a quiet stream. Keep it below the idle
   * timeout of every proxy and load balancer in front, and below the clients' heartbeat timeout.
   * @default 15000
   */
  heartbeatMs?: number;
  /**
   * Sent as `retry:`: how long clients wait before reconnecting after a clean end.
   * @default 1000
   */
  retryMs?: number;
  /**
   * Honour `transport=long-poll`; when false such requests get a normal stream.
   * @default true
   */
  longPoll?: boolean;
  /**
   * How long a long-poll with nothing to answer is held.
   * @default 25000
   */
  longPollMs?: number;
  /**
   * After the first event reaches a held long-poll, how long it waits for more before answering.
   * @default 15
   */
  longPollBatchMs?: number;
  /**
   * Spaces in the prelude comment, so that small buffers on the way pass the stream on at once.
   * @default 2048
   */
  preludePadding?: number;
  /**
   * Events per long-poll answer, and at most per read from the store while replaying.
   * @default 1000
   */
  maxReplay?: number;
  /**
   * A replay reads the store in pages of about this many bytes of events (the first page holds
   * at most 16 events, later ones as many as fit, up to `maxReplay`): the most a replay keeps
   * in memory per client.
   * @default 1048576
   */
  replayPageBytes?: number;
  /**
   * A long-poll answer ends after the event that takes it past this many bytes (it always
   * carries at least one), so that a proxy that buffers whole answers holds little.
   * @default 1048576
   */
  maxLongPollBytes?: number;
  /**
   * A replay or long-poll answer that cannot write for this long (its client reads nothing) is
   * cut; the client resumes from its last event.
   * @default 30000
   */
  writeTimeoutMs?: number;
  /**
   * Topics one request may select; more is answered `400`.
   * @default 1000
   */
  maxTopics?: number;
  /**
   * Largest POST body; larger is answered `413` and its connection closed at once, without
   * reading the rest.
   * @default 1048576
   */
  maxBodyBytes?: number;
  /**
   * A stream whose unsent output grows past this (a client that does not read) is cut; the
   * client resumes from its last event, so it loses nothing.
   * @default 8388608
   */
  maxBufferedBytes?: number;
  /**
   * `publish()` rejects with a `PublishError` when the store has not stored the event
   * within this time (the store may still store it later, never after a later publish).
   * @default 5000
   */
  publishTimeoutMs?: number;
  /**
   * Publishes waiting for the store at once; past this, `publish()` rejects at once with a
   * `PublishError` instead of queueing.
   * @default 10000
   */
  maxPendingPublishes?: number;
  /**
   * How long `disconnect()` waits for the other instances to say how many streams they ended.
   * @default 2000
   */
  controlTimeoutMs?: number;
  /**
   * While the store is unavailable, how often the server tries to subscribe to it again.
   * @default 1000
   */
  storeRetryMs?: number;
  /**
   * Live events are handed to connections in turns that hold the event loop about this long,
   * counting the writes Node finishes after a turn; between turns the process does its other
   * work (other requests, timers).
   * @default 20
   */
  fanOutSliceMs?: number;
  /**
   * Events waiting for the fan-out; past this, the streams that would get them are ended and
   * resume from their cursors (a server that cannot keep up with the publish rate).
   * @default 10000
   */
  maxFanOutBacklog?: number;
  /**
   * Count who reads each topic over every server of the store, for `presence(topic)` and for
   * the `ssemux:presence` events of connections that ask (`presence=1`). Costs no work per event;
   * per connect and disconnect a few map updates, and with other servers on the store one notice
   * per `presenceBatchMs` that had changes.
   * @default true
   */
  presence?: boolean;
  /**
   * An identity's count of connections on a topic falls only this long after it last fell, so
   * that a client that reconnects within it (a change of topics, a deploy, a proxy timeout) is
   * never seen leaving. A dead server's connections leave after its store lease, then this.
   * @default 5000
   */
  presenceGraceMs?: number;
  /**
   * Presence changes are gathered this long: one `ssemux:presence` event per topic per window,
   * and one notice to the other servers.
   * @default 100
   */
  presenceBatchMs?: number;
  /**
   * Members listed in one `ssemux:presence` event (the first by user); past this the event says
   * `"truncated":true`. `presence(topic)` lists them all.
   * @default 100
   */
  maxPresenceMembers?: number;
  /**
   * The `WWW-Authenticate` challenge of a `401`.
   * @default 'Bearer'
   */
  challenge?: string;
  /**
   * Errors no response can carry: a store failing (and, once, a `StoreOutageError` when
   * it becomes unavailable and another when it is back), `authenticate`, `authorize` or
   * `defaultTopics` throwing.
   * @default logs with console.error
   */
  onError?: (error: unknown) => void;
}

/** Defaults of the plain options of `createRealtimeServer`. */
export const SERVER_DEFAULTS = Object.freeze({
  defaultTopic: 'main',
  heartbeatMs: 15_000,
  retryMs: 1_000,
  longPoll: true,
  longPollMs: 25_000,
  longPollBatchMs: 15,
  preludePadding: 2048,
  maxReplay: 1_000,
  replayPageBytes: 1_048_576,
  maxLongPollBytes: 1_048_576,
  writeTimeoutMs: 30_000,
  maxTopics: 1_000,
  maxBodyBytes: 1_048_576,
  maxBufferedBytes: 8_388_608,
  publishTimeoutMs: 5_000,
  maxPendingPublishes: 10_000,
  controlTimeoutMs: 2_000,
  storeRetryMs: 1_000,
  fanOutSliceMs: 20,
  maxFanOutBacklog: 10_000,
  presence: true,
  presenceGraceMs: 5_000,
  presenceBatchMs: 100,
  maxPresenceMembers: 100,
  challenge: 'Bearer',
});

/**
 * The most events the fan-out hands out in one round: each connection gets its share of a
 * round in one write, which is what makes a burst cheap.
 */
export const FAN_OUT_ROUND_EVENTS = 256;
/** About the most bytes of events in one round, so that a round of large events stays one write's worth. */
export const FAN_OUT_ROUND_BYTES = 65_536;

/**
 * Disconnects kept for the requests still in admission (being authenticated or authorized);
 * past this, requests that arrived before the oldest one kept are refused and try again.
 */
export const MAX_KEPT_DISCONNECTS = 1_000;

/**
 * How often a server that holds other servers' presence checks that they are still members of
 * the store's group, and drops those that are not: the one member told of a death may itself die
 * before it tells the others.
 */
export const PRESENCE_RECONCILE_MS = 30_000;

/** Events in the first page a replay reads: most replays are a reconnect that missed a few. */
export const FIRST_REPLAY_PAGE = 16;

/**
 * Live events a connection holds while its replay is still reading the store; past this it
 * drops them and reads on from the store instead, where they are anyway.
 */
export const MAX_QUEUED_LIVE = 10_000;

/** The options with every default filled in. */
export type ServerConfig = typeof SERVER_DEFAULTS & { onError: (error: unknown) => void };

const POSITIVE = [
  'heartbeatMs',
  'longPollMs',
  'maxReplay',
  'replayPageBytes',
  'maxLongPollBytes',
  'writeTimeoutMs',
  'maxTopics',
  'maxBodyBytes',
  'maxBufferedBytes',
  'publishTimeoutMs',
  'maxPendingPublishes',
  'controlTimeoutMs',
  'storeRetryMs',
  'fanOutSliceMs',
  'maxFanOutBacklog',
  'maxPresenceMembers',
] as const;
const NON_NEGATIVE = ['retryMs', 'longPollBatchMs', 'preludePadding', 'presenceGraceMs', 'presenceBatchMs'] as const;

/** Every option there is: those with a default, and these. */
const OPTION_NAMES = new Set([...Object.keys(SERVER_DEFAULTS), 'store', 'authenticate', 'authorize', 'defaultTopics', 'onError']);

/** Checks the options once; a wrong one (or one it does not know) throws a TypeError naming it. */
export function resolveServerOptions<I extends Identity>(options: RealtimeServerOptions<I>): ServerConfig {
  const config: Record<string, unknown> = { ...SERVER_DEFAULTS, onError: (error: unknown) => console.error('ssemux/server:', error) };
  for (const [name, value] of Object.entries(options)) {
    // A misspelt name (`authorise`) would leave its default in place, silently: every topic allowed.
    if (!OPTION_NAMES.has(name)) throw new TypeError(`createRealtimeServer: unknown option ${name}`);
    if (value !== undefined) config[name] = value;
  }
  for (const name of POSITIVE) {
    if (!Number.isInteger(config[name]) || (config[name] as number) < 1) throw new TypeError(`createRealtimeServer: ${name} must be a positive integer`);
  }
  for (const name of NON_NEGATIVE) {
    if (!Number.isInteger(config[name]) || (config[name] as number) < 0) throw new TypeError(`createRealtimeServer: ${name} must be a non-negative integer`);
  }
  // A timer given more than it holds fires at once: a publish would time out, a stream heartbeat
  // without pause. (`fanOutSliceMs` is no timer's, but a duration past it means nothing either.)
  for (const name of [...POSITIVE, ...NON_NEGATIVE]) {
    if (name.endsWith('Ms') && (config[name] as number) > MAX_TIMER_MS) throw new TypeError(`createRealtimeServer: ${name} must be at most ${MAX_TIMER_MS} (about 24.8 days, the longest a timer waits)`);
  }
  if (!isTopicName(config.defaultTopic)) throw new TypeError('createRealtimeServer: defaultTopic must be a topic name');
  for (const name of ['longPoll', 'presence']) {
    if (typeof config[name] !== 'boolean') throw new TypeError(`createRealtimeServer: ${name} must be a boolean`);
  }
  if (typeof config.challenge !== 'string' || !config.challenge) throw new TypeError('createRealtimeServer: challenge must be a non-empty string');
  for (const name of ['authenticate', 'authorize', 'defaultTopics', 'onError']) {
    if (config[name] !== undefined && typeof config[name] !== 'function') throw new TypeError(`createRealtimeServer: ${name} must be a function`);
  }
  return config as ServerConfig;
}
