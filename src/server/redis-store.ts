import { isCursor } from '../protocol/wire.js';
import { deliver } from './deliver.js';
import type { EventStore, NewEvent, ReadReset, StoredEvent, StoreListener } from './event-store.js';
import { resumePoint, type LogBounds } from './resume-point.js';

/**
 * The part of an ioredis client (`new Redis(...)`, ioredis 5 or later) that the store uses.
 * Structural, so that these types never require ioredis itself.
 */
export interface RedisClient {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  multi(commands: (string | number)[][]): { exec(): Promise<[Error | null, unknown][] | null> };
  duplicate(): RedisClient;
  on(event: 'error', listener: (error: Error) => void): unknown;
  disconnect(): void;
  quit(): Promise<unknown>;
}

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * A ready ioredis client. The store sends its commands on it and opens one more connection
   * (`client.duplicate()`) for its blocking tail; it never closes the client itself.
   * @default a client the store creates for `url` and closes in `close()`
   */
  client?: RedisClient;
  /**
   * Where Redis is, when no `client` is given (any URL ioredis accepts).
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * The stream key of the log: every instance of one deployment names the same key, and
   * nothing else may write to it.
   * @default 'ssemux:events'
   */
  key?: string;
  /**
   * Events kept for replay (`XADD MAXLEN ~`: Redis trims whole nodes, so a few more may stay).
   * @default 100000
   */
  maxLen?: number;
  /**
   * How long one `XREAD BLOCK` of the tail waits before it asks again.
   * @default 5000
   */
  blockMs?: number;
  /**
   * Events the tail takes per `XREAD`.
   * @default 1000
   */
  tailBatch?: number;
}

/** Defaults of {@link redisStore}. */
export const REDIS_STORE_DEFAULTS = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  key: 'ssemux:events',
  maxLen: 100_000,
  blockMs: 5_000,
  tailBatch: 1_000,
});

// Appends with the id `<generation>-*`: Redis numbers the entries of one generation 1, 2, 3, …
// without holes, which `resumePoint` needs. The generation is the Redis time (ms) at which
// the stream was started, and always above the last one (kept in `<key>:generation`), so a
// stream started anew (deleted, or a flushed or restarted Redis) never accepts the cursors of
// the one before. Atomic, so instances cannot interleave.
const APPEND = `
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local id
if top then
  id = string.match(top[1], '^%d+') .. '-*'
else
  local now = redis.call('TIME')
  local generation = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
  if generation <= previous then generation = previous + 1 end
  redis.call('SET', KEYS[2], string.format('%.0f', generation))
  id = string.format('%.0f', generation) .. '-1'
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], id, unpack(ARGV, 2))
`;

/**
 * The log in a Redis stream (Redis 7.0 or later), shared by every instance of a deployment.
 *
 * One stream key holds every topic: the entry id is then one exact, totally ordered cursor for
 * any selection of topics (streams per topic would need a cursor per topic). Publishing is an
 * `XADD … MAXLEN ~ maxLen`, replay an `XRANGE key (<cursor> + COUNT n` checked atomically
 * against `XINFO STREAM` for what retention dropped, and live events come from one blocking
 * `XREAD` loop per store, on its own connection, that fans out to the local subscribers.
 */
export function redisStore(options: RedisStoreOptions = {}): EventStore {
  const config = { ...REDIS_STORE_DEFAULTS, ...definedOnly(options) };
  for (const name of ['maxLen', 'blockMs', 'tailBatch'] as const) {
    if (!Number.isInteger(config[name]) || config[name] < 1) throw new TypeError(`redisStore: ${name} must be a positive integer`);
  }
  const { key } = config;
  const owned = !options.client;
  let clientPromise: Promise<RedisClient> | null = null;
  const client = () => (clientPromise ??= options.client ? Promise.resolve(options.client) : connect(config.url));

  const listeners = new Set<StoreListener>();
  let tail: Tail | null = null;
  let closed = false;
  let appendSha: string | null = null;

  const head = async () => {
    const bounds = parseBounds(await xinfo(await client(), key));
    return bounds ? `${bounds.generation}-${bounds.last}` : '0-0';
  };

  const stopTail = () => {
    tail?.stop();
    tail = null;
  };

  const fail = (error: unknown) => {
    stopTail();
    const lost = [...listeners];
    listeners.clear();
    for (const listener of lost) listener.lost(error);
  };

  const startTail = async (): Promise<Tail> => {
    const redis = await client();
    const connection = redis.duplicate();
    connection.on('error', () => {}); // reported through the failing XREAD
    let stopped = false;
    const stop = () => {
      stopped = true;
      connection.disconnect();
    };
    try {
      let last = await head();
      void (async () => {
        while (!stopped) {
          const reply = await connection.call('XREAD', 'COUNT', config.tailBatch, 'BLOCK', config.blockMs, 'STREAMS', key, last);
          if (stopped) return;
          for (const entry of streamEntries(reply)) {
            // Retention overtook the tail, or the stream was started anew: something was skipped.
            if (!follows(last, entry[0])) throw new Error(`redisStore: the tail lost events after ${last}`);
            last = entry[0];
            deliver(listeners, toEvent(entry));
          }
        }
      })().catch((error: unknown) => {
        if (!stopped) fail(error);
      });
    } catch (error) {
      stop();
      throw error;
    }
    return { stop };
  };

  let starting: Promise<void> | null = null;
  const ensureTail = async () => {
    while (!tail) {
      if (closed) throw new Error('redisStore: closed');
      starting ??= startTail().then(
        (started) => {
          starting = null;
          // Everyone who waited for it may have left (or the store closed) meanwhile.
          if (listeners.size === 0 || closed) started.stop();
          else tail = started;
        },
        (error: unknown) => {
          starting = null;
          throw error;
        },
      );
      await starting;
    }
  };

  return {
    async append(input: NewEvent) {
      if (closed) throw new Error('redisStore: closed');
      const fields: string[] = ['t', input.topic, 'd', input.data];
      if (input.type !== 'message') fields.push('y', input.type);
      if (input.user !== undefined) fields.push('u', input.user);
      const redis = await client();
      // The second key remembers the last generation: a stream deleted and started again within
      // one millisecond must still get a new one, or old cursors would pass for new.
      const args = [2, key, `${key}:generation`, config.maxLen, ...fields];
      let cursor: unknown;
      try {
        appendSha ??= (await redis.call('SCRIPT', 'LOAD', APPEND)) as string;
        cursor = await redis.call('EVALSHA', appendSha, ...args);
      } catch (error) {
        if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
        cursor = await redis.call('EVAL', APPEND, ...args); // a restarted Redis forgot the script
      }
      return { ...input, cursor: String(cursor) };
    },

    async read(after, limit) {
      const redis = await client();
      let requested = after;
      let reset: ReadReset | undefined;
      // A read that lands in the middle of trimming asks again from where retention now starts.
      for (let attempt = 0; attempt < 10; attempt++) {
        const replies = await redis
          .multi([
            ['xinfo', 'STREAM', key],
            ['xrange', key, `(${isCursor(requested) ? requested : '0-0'}`, '+', 'COUNT', limit],
          ])
          .exec();
        const [[infoError, info], [rangeError, range]] = replies as [[Error | null, unknown], [Error | null, unknown]];
        if (infoError && !isMissingKey(infoError)) throw infoError;
        if (rangeError) throw rangeError;
        const point = resumePoint(requested, infoError ? null : parseBounds(info));
        if (!point.reset) return { reset, events: (range as RawEntry[]).map(toEvent) };
        reset = { reason: reset?.reason ?? point.reset.reason, cursor: point.reset.cursor };
        requested = point.reset.cursor;
      }
      throw new Error('redisStore: retention kept moving during a read');
    },

    head,

    async subscribe(listener) {
      if (closed) throw new Error('redisStore: closed');
      listeners.add(listener);
      try {
        await ensureTail();
      } catch (error) {
        listeners.delete(listener);
        throw error;
      }
      return () => {
        if (listeners.delete(listener) && listeners.size === 0) stopTail();
      };
    },

    async close() {
      closed = true;
      stopTail();
      listeners.clear();
      if (owned && clientPromise) await (await clientPromise).quit().catch(() => {});
    },
  };

}

interface Tail {
  stop(): void;
}

/** `[id, [field, value, …]]` as XRANGE and XREAD give it. */
type RawEntry = [string, string[]];

async function connect(url: string): Promise<RedisClient> {
  let Redis: typeof import('ioredis').Redis;
  try {
    ({ Redis } = await import('ioredis'));
  } catch (error) {
    throw new Error('redisStore: without a `client`, it needs the ioredis package (npm install ioredis)', { cause: error });
  }
  const redis = new Redis(url) as unknown as RedisClient;
  redis.on('error', () => {}); // reported through the commands that fail
  return redis;
}

/**
 * The entries of a one-stream `XREAD` reply: `[[key, entries]]` over RESP2, `[key, entries]`
 * over RESP3 (a map, which ioredis flattens).
 */
function streamEntries(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  return (typeof reply[0] === 'string' ? reply[1] : reply[0][1]) as RawEntry[];
}

function toEvent([cursor, fields]: RawEntry): StoredEvent {
  const event: StoredEvent = { cursor, topic: '', type: 'message', data: '' };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    switch (fields[i]) {
      case 't':
        event.topic = value;
        break;
      case 'y':
        event.type = value;
        break;
      case 'd':
        event.data = value;
        break;
      case 'u':
        event.user = value;
        break;
    }
  }
  return event;
}

/** True when `next` is the entry right after `previous` in its generation (or the first one). */
function follows(previous: string, next: string): boolean {
  const [generation, n] = next.split('-') as [string, string];
  if (previous === '0-0') return n === '1';
  const [lastGeneration, last] = previous.split('-') as [string, string];
  return generation === lastGeneration && BigInt(n) === BigInt(last) + 1n;
}

/** The bounds in an `XINFO STREAM` reply (a flat list of names and values), null for none. */
function parseBounds(info: unknown): LogBounds | null {
  if (!Array.isArray(info)) return null;
  const field = (name: string): unknown => info[info.indexOf(name) + 1];
  const [generation, last] = String(field('last-generated-id')).split('-') as [string, string];
  const firstEntry = field('first-entry') as RawEntry | null;
  const lastOrdinal = BigInt(last);
  const first = Number(field('length')) > 0 && firstEntry ? BigInt(firstEntry[0].split('-')[1]!) : lastOrdinal + 1n;
  return { generation, first, last: lastOrdinal };
}

async function xinfo(redis: RedisClient, key: string): Promise<unknown> {
  try {
    return await redis.call('XINFO', 'STREAM', key);
  } catch (error) {
    if (isMissingKey(error)) return null;
    throw error;
  }
}

function isMissingKey(error: unknown): boolean {
  return /no such key/i.test(String((error as Error)?.message));
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
