/**
 * Public types shared by every layer. Nothing here runs: it is the vocabulary the engine, the
 * hub, the sharing links and the client speak.
 */

/** How tabs share a stream. `auto` picks the best the platform offers. */
export type SharingMode = 'auto' | 'shared-worker' | 'leader' | 'none';
/** The sharing mode actually in use. */
export type ResolvedSharing = Exclude<SharingMode, 'auto'>;

/** How the bytes travel. `auto` picks fetch streaming, then the fallbacks. */
export type TransportKind = 'auto' | 'fetch' | 'eventsource' | 'polyfill' | 'long-poll';
/** The transport actually in use. */
export type ResolvedTransport = Exclude<TransportKind, 'auto'>;

/** Lifecycle of a stream as a client sees it. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A map from event type to the type of its parsed data, e.g. `{ notification: { text: string } }`. */
// `any`, not `unknown`: an interface (no index signature) must satisfy it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = Record<string, any>;

/**
 * The data of an `ssemux:presence` event (server protocol §9): who reads the event's topic, over
 * every instance of the server, one count per browser; `change` is what moved since the last one.
 */
export interface PresenceData {
  members: { user: string; browsers: number }[];
  anonymous: number;
  /** More members than the server lists in one event: these are the first, by user. */
  truncated?: true;
  change?: { user: string | null; browsers: number };
}

/** Headers as the hub sends them: names to values. */
export type HeadersInit = Record<string, string>;
/**
 * What a headers option or provider may give: a plain object of strings, a `Headers` instance, or
 * `[name, value]` pairs. Anything else is a `headers` error.
 */
export type HeadersLike = Record<string, string> | Headers | readonly (readonly [string, string])[];
/** Called once before every connection attempt (and so again after a 401). */
export type HeadersProvider = () => HeadersLike | Promise<HeadersLike>;

/** How `msg.data` is made from the event text. */
export type ParseOption = 'json' | 'text' | ((text: string, type: string) => unknown);

/** One SSE event as it travels from the engine to the tabs: raw text, not yet parsed. */
export interface WireEvent {
  /** Event type; `message` when the server named none. */
  type: string;
  /** The data field, lines joined with LF. */
  data: string;
  /** The stream's last event id when this event fired. */
  id: string;
  /** The event's topic, on a topic stream (see the server protocol). */
  topic?: string;
}

/** What a listener receives. */
export interface RealtimeMessage<T = unknown, K extends string = string> {
  type: K;
  /** `text` parsed by the client's `parse` option. */
  data: T;
  /** The raw data field. */
  text: string;
  /** The id to resume after this event. */
  lastEventId: string;
  /** The event's topic, when the client subscribed to topics. */
  topic?: string;
  /** True for the last event of its type the stream had carried, given to a `latest: true` listener before live ones. */
  latest?: true;
}

/** Why a stream failed or degraded. See {@link RealtimeErrorCode}. */
export interface StatusError {
  /** `'RealtimeError'` on every error a client hands out, so {@link isRealtimeError} knows it. */
  name?: string;
  code: import('./errors.js').RealtimeErrorCode;
  message: string;
  /** HTTP status, when the error came from a response. */
  status?: number;
}

/**
 * Why a status was made: what happened, so that code reacting to statuses need not guess it from
 * two snapshots.
 * - `started`: the client's first status.
 * - `opened`: a response was accepted; the stream is open.
 * - `ended`: the server ended the stream cleanly (a deploy, a proxy timeout); it reconnects after `retryInMs`.
 * - `failed`: an attempt failed (see `error`); it reconnects after `retryInMs`.
 * - `refused`: the server's answer closes the stream for good (see `error`: 204, a 4xx, a wrong content type).
 * - `closed`: `close()` was called, or the client's signal aborted.
 * - `hub-lost`: the SharedWorker or leader tab serving the client went away; another takes over.
 * - `fell-back`: the client moved to another sharing mode or transport (see `fallbackReason`).
 * - `reported`: a problem that changes nothing else (see `error`: an event too large, a parse
 *   error, a gap, forbidden topics, waiting for a connection slot).
 * - `updated`: a detail changed (the transport being tried, the attempt count back to 0).
 */
export type StatusReason = 'started' | 'opened' | 'ended' | 'failed' | 'refused' | 'closed' | 'hub-lost' | 'fell-back' | 'reported' | 'updated';

/** What `client.status` holds. A new object on every change, so it can be compared by identity. */
export interface RealtimeStatus {
  state: ConnectionState;
  /** What made this status (see {@link StatusReason}). */
  reason: StatusReason;
  /** Transport in use, or the one being tried. */
  transport: ResolvedTransport;
  sharing: ResolvedSharing;
  /** Attempts since the connection last stayed open for 5 s; back to 0 once it has. */
  attempt: number;
  /** While `reconnecting`: the wait before the next attempt. */
  retryInMs?: number;
  /**
   * Where this client's stream stands: the id it resumes from. It moves with every event of the
   * stream, also those of types this client does not listen to. `''` before any.
   */
  lastEventId: string;
  /** The latest problem; kept while `closed`, cleared when a connection opens. */
  error?: StatusError;
  /** Why the sharing mode or transport differs from the one asked for, when it does. */
  fallbackReason?: string;
}

/** Backoff between reconnection attempts: full jitter over an exponential ceiling. */
export interface BackoffOptions {
  /** Ceiling of the first wait. @default 1000 */
  initialMs?: number;
  /** Largest ceiling. @default 30000 */
  maxMs?: number;
  /** Growth of the ceiling per failed attempt. @default 2 */
  factor?: number;
}

/** Options of {@link createRealtimeClient}. Validated once, at creation. */
export interface RealtimeClientOptions {
  /** SSE endpoint, relative to the page or absolute. */
  url: string | URL;
  /** Stable same-origin URL of `ssemux/worker` (dist/ssemux-worker.js). Needed for `shared-worker`. */
  workerUrl?: string | URL;
  /** @default 'auto' */
  sharing?: SharingMode;
  /** @default 'auto' */
  transport?: TransportKind;
  /** Headers for every request, or a provider called once before every attempt (and after a 401). */
  headers?: HeadersLike | HeadersProvider;
  /**
   * Names the credentials of this stream, so tabs with the same credentials share and tabs with
   * different ones never do. When omitted it is derived from every answer of the headers provider
   * (all headers, and a bearer JWT by its claims minus `iat`, `exp`, `nbf`, `jti`).
   */
  credentialsKey?: string;
  /** The headers provider must answer within this, or the attempt fails with code `headers`. @default 10000 */
  headersTimeoutMs?: number;
  /**
   * Upstreams of ssemux open at once to one origin, over every stream of every tab; more wait for a
   * slot. The browser allows 6 connections per host over HTTP/1.1: the default leaves the page 2.
   * Raise it for an HTTP/2 server. @default 4
   */
  maxConnections?: number;
  /** Send cookies on cross-origin requests. @default false */
  withCredentials?: boolean;
  /** @default 'json' */
  parse?: ParseOption;
  backoff?: BackoffOptions;
  /** No byte at all for this long, counted from the start of the request: reconnect. @default 45000 */
  heartbeatTimeoutMs?: number;
  /** Events larger than this (UTF-16 code units of data) are dropped and reported. @default 1048576 */
  maxEventSize?: number;
  /** HTTP method (fetch transport only). @default 'GET' */
  method?: 'GET' | 'POST';
  /** Request body for `POST` (fetch transport only). */
  body?: string;
  /**
   * Topics to receive, from a server of the ssemux protocol (`ssemux/server`): every tab's topics
   * travel on one upstream per endpoint and credentials, and each tab gets the events of its own.
   * Change them with `client.setTopics()`. Without it the endpoint is a plain SSE stream.
   */
  topics?: readonly string[];
  /** Aborting it closes the client, as `close()` does. */
  signal?: AbortSignal;
  /**
   * The first tab of an origin (no SharedWorker of ssemux runs yet) also reads its stream with the
   * platform's EventSource while the worker starts, then lets the worker take over after the last
   * event it got: its first events come as soon as a plain EventSource's. Only where that changes
   * nothing else: shared-worker mode, transport `auto`, GET, no headers, no topics, no `'*'` or
   * `tabs: 'one'` listener (adding one hands over at once), events with ids. Its status says `open`
   * over `eventsource` until the worker's events come. See the README's "The first tab".
   * @default true
   */
  earlyStream?: boolean;
  /**
   * Logs what the client does: state changes, the sharing and transport chosen and why, and the
   * upstream's requests and responses (method, URL, status, retry delay), which in a SharedWorker
   * or a leader tab are otherwise invisible from this tab. `true` writes to `console.log`.
   * @default false
   */
  debug?: boolean | ((message: string, detail?: unknown) => void);
  /**
   * An inert client opens nothing: its status stays the first one a browser shows (`connecting`,
   * attempt 0) until `close()`, and relative URLs need no page. Server-side rendering imports the
   * same modules as the browser; there, no stream should open.
   * @default true on a server (no `window`, not a worker), false in a browser
   */
  inert?: boolean;
}
