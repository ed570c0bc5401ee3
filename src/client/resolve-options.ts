import { DEFAULTS } from '../protocol/defaults.js';
import { RealtimeError } from '../protocol/errors.js';
import type { HeadersInit, HeadersProvider, ParseOption, RealtimeClientOptions, SharingMode } from '../protocol/types.js';
import { isTopic } from '../protocol/wire.js';
import { toHeaders } from './headers-answer.js';

const SHARING = ['auto', 'shared-worker', 'leader', 'none'];
const TRANSPORTS = ['auto', 'fetch', 'eventsource', 'polyfill', 'long-poll'];

/** Options with every default applied and every value checked. */
export interface ResolvedOptions {
  url: string;
  workerUrl?: string;
  sharing: SharingMode;
  transport: NonNullable<RealtimeClientOptions['transport']>;
  /** Fixed headers, already checked; or the provider. */
  headers?: HeadersInit | HeadersProvider;
  credentialsKey?: string;
  headersTimeoutMs: number;
  maxConnections: number;
  topics?: readonly string[];
  withCredentials: boolean;
  parse: ParseOption;
  backoff: { initialMs: number; maxMs: number; factor: number };
  heartbeatTimeoutMs: number;
  maxEventSize: number;
  method: 'GET' | 'POST';
  body?: string;
}

function fail(message: string): never {
  throw new RealtimeError('invalid-options', `ssemux: ${message}`);
}

function positive(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= min) fail(`${name} must be a number above ${min}, got ${String(value)}`);
  return value;
}

function absolute(name: string, value: string | URL): string {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  try {
    return new URL(value, base).href;
  } catch {
    return fail(`${name} is not a valid URL: ${String(value)}`);
  }
}

/** A list of topic names, checked; throws `invalid-options` naming `what`. */
export function checkTopics(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) fail(`${what} must be an array of topic names`);
  const bad = (value as unknown[]).find((t) => !isTopic(t));
  if (bad !== undefined) fail(`${what}: ${JSON.stringify(bad)} is not a topic name (1 to 256 characters, no control characters)`);
  return [...new Set(value as string[])];
}

/** Checks `options` once, at creation, and says exactly what is wrong. */
export function resolveOptions(options: RealtimeClientOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('createRealtimeClient needs an options object');
  const o = options;
  if (typeof o.url !== 'string' && !(o.url instanceof URL)) fail('url is required (a string or URL)');
  const sharing = o.sharing ?? DEFAULTS.sharing;
  if (!SHARING.includes(sharing)) fail(`sharing must be one of ${SHARING.join(', ')}; got ${String(sharing)}`);
  const transport = o.transport ?? DEFAULTS.transport;
  if (!TRANSPORTS.includes(transport)) fail(`transport must be one of ${TRANSPORTS.join(', ')}; got ${String(transport)}`);
  let headers: HeadersInit | HeadersProvider | undefined;
  if (typeof o.headers === 'function') headers = o.headers;
  else if (o.headers !== undefined) {
    try {
      headers = toHeaders(o.headers);
    } catch (error) {
      fail(`headers: ${(error as Error).message}, or a function returning one`);
    }
  }
  if (transport === 'eventsource' && o.headers !== undefined) fail("transport 'eventsource' cannot send headers; use 'fetch' or 'auto'");
  const parse = o.parse ?? DEFAULTS.parse;
  if (parse !== 'json' && parse !== 'text' && typeof parse !== 'function') fail("parse must be 'json', 'text' or a function");
  const method = o.method ?? DEFAULTS.method;
  if (method !== 'GET' && method !== 'POST') fail(`method must be GET or POST; got ${String(method)}`);
  if (o.body !== undefined && typeof o.body !== 'string') fail('body must be a string');
  if (o.body !== undefined && method !== 'POST') fail("body needs method 'POST'");
  if (method === 'POST' && transport !== 'auto' && transport !== 'fetch') fail(`transport '${transport}' cannot POST; use 'fetch'`);
  if (o.workerUrl !== undefined && typeof o.workerUrl !== 'string' && !(o.workerUrl instanceof URL)) fail('workerUrl must be a string or URL');
  if (sharing === 'shared-worker' && o.workerUrl === undefined) fail("sharing 'shared-worker' needs workerUrl");
  if (o.credentialsKey !== undefined && typeof o.credentialsKey !== 'string') fail('credentialsKey must be a string');
  const b = o.backoff ?? {};
  const backoff = {
    initialMs: positive('backoff.initialMs', b.initialMs, DEFAULTS.backoff.initialMs),
    maxMs: positive('backoff.maxMs', b.maxMs, DEFAULTS.backoff.maxMs),
    factor: positive('backoff.factor', b.factor, DEFAULTS.backoff.factor, 0),
  };
  if (backoff.factor < 1) fail(`backoff.factor must be at least 1; got ${backoff.factor}`);
  if (backoff.maxMs < backoff.initialMs) fail('backoff.maxMs must not be below backoff.initialMs');
  const resolved: ResolvedOptions = {
    url: absolute('url', o.url),
    sharing,
    transport,
    withCredentials: o.withCredentials ?? DEFAULTS.withCredentials,
    parse,
    backoff,
    heartbeatTimeoutMs: positive('heartbeatTimeoutMs', o.heartbeatTimeoutMs, DEFAULTS.heartbeatTimeoutMs),
    headersTimeoutMs: positive('headersTimeoutMs', o.headersTimeoutMs, DEFAULTS.headersTimeoutMs),
    maxConnections: positive('maxConnections', o.maxConnections, DEFAULTS.maxConnections),
    maxEventSize: positive('maxEventSize', o.maxEventSize, DEFAULTS.maxEventSize),
    method,
  };
  if (!Number.isInteger(resolved.maxConnections)) fail(`maxConnections must be a whole number; got ${resolved.maxConnections}`);
  if (o.workerUrl !== undefined) resolved.workerUrl = absolute('workerUrl', o.workerUrl);
  if (headers !== undefined) resolved.headers = headers;
  if (o.topics !== undefined) {
    resolved.topics = checkTopics(o.topics, 'topics');
    if (o.body !== undefined) fail('topics and body cannot be used together: the topics travel in the query or the body');
  }
  if (o.credentialsKey !== undefined) resolved.credentialsKey = o.credentialsKey;
  if (o.body !== undefined) resolved.body = o.body;
  return resolved;
}
