import { baseUrl } from '../protocol/base-url.js';
import { DEFAULTS } from '../protocol/defaults.js';
import { clampDelay } from '../protocol/delays.js';
import { RealtimeError } from '../protocol/errors.js';
import type { StreamSpec } from '../protocol/stream.js';
import { isTopic } from '../protocol/topic-name.js';
import type { HeadersLike, HeadersProvider, ParseOption, RealtimeClientOptions, SharingMode } from '../protocol/types.js';
import { closestName } from './closest-name.js';

/** Options with every default applied and every value checked. */
export interface ResolvedOptions {
  /** What the upstream is opened with: plain data, the stream's spec but for its credentials and topics. */
  stream: Omit<StreamSpec, 'credentialsKey' | 'topics' | 'headers'>;
  workerUrl: string | undefined;
  sharing: SharingMode;
  /** Fixed headers (checked when the credentials load), or the provider. */
  headers?: HeadersLike | HeadersProvider;
  credentialsKey?: string;
  topics?: readonly string[];
  parse: ParseOption;
  signal?: AbortSignal;
  /** Where `debug` writes, when on. */
  log: ((message: string, detail?: unknown) => void) | undefined;
  inert: boolean;
  earlyStream: boolean;
}

/** Every option there is (those with a default, and these): any other name is a mistake, named with the closest. */
const NAMES = [...Object.keys(DEFAULTS), ...'url workerUrl headers credentialsKey topics body signal inert'.split(' ')];

function fail(message: string): never {
  throw new RealtimeError('invalid-options', `ssemux: ${message}`);
}

/** `value` if it is one of `allowed`, else fails naming them. */
function oneOf<const T>(name: string, value: unknown, allowed: readonly T[]): T {
  return allowed.includes(value as T) ? (value as T) : fail(`${name} must be one of ${allowed.join(', ')}; got ${String(value)}`);
}

/** A number above `min`, or `fallback` when not given. */
function number(name: string, value: unknown, fallback: number, min = 0): number {
  return value === undefined ? fallback : typeof value === 'number' && value > min && value < Infinity ? value : fail(`${name} must be a number above ${min}; got ${String(value)}`);
}

/** An absolute URL; on a server (`base` undefined, the client inert) a relative one stays as it is. */
function absolute(name: string, value: unknown, base: string | undefined, inert: boolean): string {
  if (typeof value !== 'string' && !(value instanceof URL)) fail(`${name} must be a string or URL`);
  try {
    return new URL(value, base).href;
  } catch {
    return inert ? String(value) : fail(`${name} is not a valid URL: ${String(value)}`);
  }
}

/** A list of topic names, checked; throws `invalid-options` naming `what`. */
export function checkTopics(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) fail(`${what} must be an array of topic names`);
  const bad = value.find((t) => !isTopic(t));
  if (bad !== undefined) fail(`${what}: ${JSON.stringify(bad)} is not a topic name (1-256 characters, no controls, no lone surrogate)`);
  return [...new Set(value as string[])];
}

/** Checks `options` once, at creation, and says exactly what is wrong. */
export function resolveOptions(options: RealtimeClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  const o = options;
  const d = DEFAULTS;
  for (const name in o) if (!NAMES.includes(name)) fail(`unknown option ${name}; did you mean ${closestName(name, NAMES)}?`);
  if (o.url === undefined) fail('url is required');
  const sharing = oneOf('sharing', o.sharing ?? d.sharing, ['auto', 'shared-worker', 'leader', 'none']);
  const transport = oneOf('transport', o.transport ?? d.transport, ['auto', 'fetch', 'eventsource', 'polyfill', 'long-poll']);
  const method = oneOf('method', o.method ?? d.method, ['GET', 'POST']);
  const { headers, body, topics, credentialsKey, signal, debug, parse = d.parse } = o;
  if (typeof parse !== 'function') oneOf('parse', parse, ['json', 'text', 'a function']);
  if (transport === 'eventsource' && headers) fail("transport 'eventsource' cannot send headers");
  if (body !== undefined && (typeof body !== 'string' || method !== 'POST')) fail("body must be a string, with method 'POST'");
  if (method === 'POST' && transport !== 'auto' && transport !== 'fetch') fail(`transport '${transport}' cannot POST`);
  if (sharing === 'shared-worker' && !o.workerUrl) fail("sharing 'shared-worker' needs workerUrl");
  if (sharing === 'shared-worker' && transport === 'polyfill') fail("transport 'polyfill' cannot run in a SharedWorker");
  if (credentialsKey !== undefined && typeof credentialsKey !== 'string') fail('credentialsKey must be a string');
  if (topics && body !== undefined) fail('topics and body cannot be used together');
  if (signal !== undefined && typeof signal?.addEventListener !== 'function') fail('signal must be an AbortSignal');
  if (o.earlyStream !== undefined && typeof o.earlyStream !== 'boolean') fail('earlyStream must be a boolean');
  if (debug !== undefined && typeof debug !== 'boolean' && typeof debug !== 'function') fail('debug must be a boolean or a function');
  const backoff: StreamSpec['backoff'] = { ...d.backoff };
  for (const name of ['initialMs', 'maxMs', 'factor'] as const) backoff[name] = number(`backoff.${name}`, o.backoff?.[name], d.backoff[name]);
  if (backoff.factor < 1) fail('backoff.factor must be at least 1');
  if (backoff.maxMs < backoff.initialMs) fail('backoff.maxMs must be at least backoff.initialMs');
  const g = globalThis as { window?: unknown; importScripts?: unknown };
  // A server (no window, no worker scope) renders pages: nothing there should open a stream.
  const inert = o.inert ?? (g.window === undefined && g.importScripts === undefined);
  const base = baseUrl();
  const url = absolute('url', o.url, base, inert);
  // fetch cannot get another scheme (ftp:, about:, mailto:, javascript:): every attempt would fail alike, for ever.
  if (!inert && !/^(https?|data|blob):/.test(url)) fail(`url must be http:, https:, data: or blob:; got ${url}`);
  // Topics named in the URL (`/events?topic=x`) are the client's topics when the option names none,
  // so that the hub splits each event's topic line from its data (it adds the union of every tab's
  // topics to the query: a topic named twice is one). The parameter is wire.ts's TOPIC_PARAM,
  // written out: importing that module would move it into this bundle.
  const named = inert ? [] : new URL(url).searchParams.getAll('topic');
  const stream = { url, transport, method, withCredentials: o.withCredentials ?? d.withCredentials, backoff } as ResolvedOptions['stream'];
  for (const name of ['heartbeatTimeoutMs', 'headersTimeoutMs', 'maxConnections', 'maxEventSize'] as const) stream[name] = number(name, o[name], d[name]);
  // A wait longer than a timer holds would fire at once: 2^31 ms (or MAX_SAFE_INTEGER, for
  // "never") waits as long as one can, about 24.8 days.
  for (const name of ['heartbeatTimeoutMs', 'headersTimeoutMs'] as const) stream[name] = clampDelay(stream[name]);
  if (stream.maxConnections % 1) fail('maxConnections must be a whole number');
  if (body !== undefined) stream.body = body;
  return {
    stream,
    sharing,
    parse,
    inert,
    earlyStream: o.earlyStream ?? d.earlyStream,
    log: debug === true ? (message, detail) => console.log(`[ssemux] ${message}`, detail ?? '') : debug || undefined,
    workerUrl: o.workerUrl && absolute('workerUrl', o.workerUrl, base, inert),
    headers,
    // (`?topic=` alone names no topic here; the server refuses it.)
    topics: ((topics || named[0]) && checkTopics(topics || named, 'topics')) as string[] | undefined,
    credentialsKey,
    signal,
  };
}
