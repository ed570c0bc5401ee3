import { createHash } from 'node:crypto';
import { clampDelay, MAX_TIMER_MS } from '../protocol/delays.js';
import { deliver } from './deliver.js';
import type { EventStore, NewEvent, ReadReset, StoreListener } from './event-store.js';
import { connectionRules, createReadyGate, openConnection, type ReadyGate, type RedisClient } from './redis-client.js';
import { createRedisGroup } from './redis-group.js';
import { follows, isMissingKey, lastEntry, parseBounds, rangeStart, streamsOf, toEvent, xinfo, type RawEntry } from './redis-replies.js';
import { resumePoint } from './resume-point.js';

export type { RedisClient } from './redis-client.js';

/** Options of {@link redisStore}. */
export interface RedisStoreOptions {
  /**
   * An ioredis client. The store never sends a command on it and never changes or closes it:
   * it opens its own connections with `client.duplicate(...)` (same host, credentials and TLS),
   * under its own rules (no offline queue, nothing sent again after a reconnect, every call
   * bounded by `commandTimeoutMs`).
   * @default a new connection to `url`
   */
  client?: RedisClient;
  /**
   * Where Redis is, when no `client` is given (any URL ioredis accepts).
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * The stream key of the log: every instance of one deployment names the same key, and
   * nothing else may write to it (nor to `<key>:generation`, `<key>:control`, `<key>:members`).
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
  /**
   * A command that gets no reply within this time fails, and so does one that waits this long
   * for the connection to come back; the tail's blocking read may take `blockMs` more.
   * @default 5000
   */
  commandTimeoutMs?: number;
  /**
   * A server that joined the store (every `createRealtimeServer` on it) renews its entry in
   * `<key>:members` every third of this; one that has not for this long is taken as dead.
   * @default 10000
   */
  memberLeaseMs?: number;
}

/** Defaults of {@link redisStore}. */
export const REDIS_STORE_DEFAULTS = Object.freeze({
  url: 'redis://127.0.0.1:6379',
  key: 'ssemux:events',
  maxLen: 100_000,
  blockMs: 5_000,
  tailBatch: 1_000,
  commandTimeoutMs: 5_000,
  memberLeaseMs: 10_000,
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
const APPEND_SHA = createHash('sha1').update(APPEND).digest('hex');

/**
 * The log in a Redis stream (Redis 7.0 or later), shared by every instance of a deployment.
 *
 * One stream key holds every topic: the entry id is then one exact, totally ordered cursor for
 * any selection of topics (streams per topic would need a cursor per topic). Publishing is an
 * `XADD … MAXLEN ~ maxLen`, replay an `XRANGE key (<cursor> + COUNT n` checked atomically
 * against `XINFO STREAM` for what retention dropped, and live events come from one blocking
 * `XREAD` loop per store, on its own connection, that fans out to the local subscribers. The
 * same loop reads `<key>:control`, where the instances broadcast control messages and answer
 * them; `<key>:members` lists the live ones.
 */
export function redisStore(options: RedisStoreOptions = {}): EventStore {
  const config = { ...REDIS_STORE_DEFAULTS, ...definedOnly(options) };
  for (const name of ['maxLen', 'blockMs', 'tailBatch', 'commandTimeoutMs', 'memberLeaseMs'] as const) {
    if (!Number.isInteger(config[name]) || config[name] < 1) throw new TypeError(`redisStore: ${name} must be a positive integer`);
    if (name.endsWith('Ms') && config[name] > MAX_TIMER_MS) throw new TypeError(`redisStore: ${name} must be at most ${MAX_TIMER_MS} (about 24.8 days, the longest a timer waits)`);
  }
  const { key, commandTimeoutMs } = config;
  const controlKey = `${key}:control`;
  const membersKey = `${key}:members`;
  const source = { client: options.client, url: config.url };

  // ---- commands: one connection, calls sent in call order once it is ready -------------------
  let commands: Promise<{ connection: RedisClient; gate: ReadyGate }> | null = null;
  // The append script is sent whole once per connection; EVALSHA after it, pipelined behind it.
  let scriptSent = false;
  const link = () =>
    (commands ??= openConnection(source, connectionRules(commandTimeoutMs)).then((connection) => {
      connection.on('ready', () => (scriptSent = false));
      return { connection, gate: createReadyGate(connection, commandTimeoutMs) };
    }));
  const ready = async () => {
    if (closed) throw new Error('redisStore: closed');
    const { connection, gate } = await link();
    await gate.wait();
    return connection;
  };
  const call = async (command: string, ...args: (string | number)[]) => (await ready()).call(command, ...args);
  /** True when the command connection is open and ready now. */
  const connected = async () => !!commands && (await commands.catch(() => null))?.connection.status === 'ready';

  const listeners = new Set<StoreListener>();
  let tail: Tail | null = null;
  let starting: Promise<void> | null = null;
  // The last control entry read, kept across tails: a new tail reads on from there.
  let controlLast: string | null = null;
  let available = true;
  let closed = false;

  const head = async () => {
    const bounds = parseBounds(await xinfo(await ready(), key));
    return bounds ? `${bounds.generation}-${bounds.last}` : '0-0';
  };

  const setAvailable = (value: boolean, error?: unknown) => {
    if (available === value) return;
    available = value;
    for (const listener of [...listeners]) listener.availability?.(value, error);
  };

  const loseListeners = (error: unknown) => {
    const lost = [...listeners];
    listeners.clear();
    for (const listener of lost) listener.lost(error);
  };

  const startTail = async (): Promise<Tail> => {
    const connection = await openConnection(source, connectionRules(undefined));
    const gate = createReadyGate(connection, commandTimeoutMs);
    let stopped = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      stopped = true;
      clearTimeout(watchdog);
      gate.close();
      connection.disconnect();
    };
    let last: string;
    try {
      await gate.wait();
      last = await head();
      controlLast ??= await lastEntry(await ready(), controlKey);
    } catch (error) {
      stop();
      throw error;
    }

    /** A read that outlives its block by the command bound is a dead connection: make a new one. */
    const read = () => {
      const reply = connection.call('XREAD', 'COUNT', config.tailBatch, 'BLOCK', config.blockMs, 'STREAMS', key, controlKey, last, controlLast!);
      watchdog = setTimeout(() => connection.disconnect(true), clampDelay(config.blockMs + commandTimeoutMs));
      return reply.finally(() => clearTimeout(watchdog));
    };

    /** After the connection came back: was the log started anew meanwhile (a Redis restarted empty)? */
    const checkLog = async () => {
      const now = parseBounds(await xinfo(await ready(), key));
      if (last === '0-0') return;
      const [generation, n] = last.split('-') as [string, string];
      if (now && now.generation === generation && now.last >= BigInt(n)) return;
      last = now ? `${now.generation}-${now.last}` : '0-0';
      loseListeners(new Error('redisStore: the log was started anew while Redis was unreachable'));
    };

    void (async () => {
      while (!stopped) {
        let reply: unknown;
        try {
          reply = await read();
        } catch (error) {
          if (stopped) return;
          setAvailable(false, new Error('redisStore: lost the connection to Redis', { cause: error }));
          // The connection reconnects by itself (the client's retry strategy); wait for it.
          for (;;) {
            try {
              await gate.wait();
              await checkLog();
              break;
            } catch (waitError) {
              if (stopped) return;
              if (connection.status === 'end') throw waitError;
            }
          }
          setAvailable(true);
          continue;
        }
        if (stopped) return;
        for (const [stream, entries] of streamsOf(reply)) {
          // By its end: a client's keyPrefix comes back in the reply's stream names.
          if (stream.endsWith(controlKey)) {
            for (const [id, fields] of entries) {
              controlLast = id;
              group.onControl(fields);
            }
            continue;
          }
          for (const entry of entries) {
            // Retention overtook the tail, or the stream was started anew: something was skipped.
            if (!follows(last, entry[0])) loseListeners(new Error(`redisStore: the tail lost events after ${last}`));
            last = entry[0];
            deliver(listeners, toEvent(entry));
          }
        }
      }
    })().catch((error: unknown) => {
      // The connection ended for good: the subscribers start again, on a new tail.
      if (stopped) return;
      stop();
      if (tail?.stop === stop) tail = null;
      setAvailable(false, error);
      loseListeners(error);
    });
    return { stop };
  };

  const needsTail = () => listeners.size > 0 || group.size > 0;
  const stopTail = () => {
    tail?.stop();
    tail = null;
  };
  const ensureTail = async (): Promise<void> => {
    while (!tail) {
      if (closed) throw new Error('redisStore: closed');
      starting ??= startTail().then(
        (started) => {
          starting = null;
          // Everyone who waited for it may have left (or the store closed) meanwhile.
          if (!needsTail() || closed) started.stop();
          else {
            tail = started;
            available = true;
          }
        },
        (error: unknown) => {
          starting = null;
          throw error;
        },
      );
      await starting;
    }
  };

  const group = createRedisGroup({
    call,
    connected,
    controlKey,
    membersKey,
    memberLeaseMs: config.memberLeaseMs,
    tail: {
      ensure: ensureTail,
      release() {
        if (!needsTail()) stopTail();
      },
    },
  });

  return {
    async append(input: NewEvent) {
      const fields: string[] = ['t', input.topic, 'd', input.data];
      if (input.type !== 'message') fields.push('y', input.type);
      if (input.user !== undefined) fields.push('u', input.user);
      // The second key remembers the last generation: a stream deleted and started again within
      // one millisecond must still get a new one, or old cursors would pass for new.
      const args = [2, key, `${key}:generation`, config.maxLen, ...fields];
      const connection = await ready();
      let cursor: unknown;
      if (!scriptSent) {
        scriptSent = true;
        cursor = await connection.call('EVAL', APPEND, ...args);
      } else {
        try {
          cursor = await connection.call('EVALSHA', APPEND_SHA, ...args);
        } catch (error) {
          // Someone flushed the script cache: send it whole again.
          if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
          cursor = await connection.call('EVAL', APPEND, ...args);
        }
      }
      return { ...input, cursor: String(cursor) };
    },

    async read(after, limit) {
      let requested = after;
      let reset: ReadReset | undefined;
      // A read that lands in the middle of trimming asks again from where retention now starts.
      for (let attempt = 0; attempt < 10; attempt++) {
        const replies = await (await ready())
          .multi([
            ['xinfo', 'STREAM', key],
            ['xrange', key, rangeStart(requested), '+', 'COUNT', limit],
          ])
          .exec();
        const [[infoError, info], [rangeError, range]] = replies as [[Error | null, unknown], [Error | null, unknown]];
        if (infoError && !isMissingKey(infoError)) throw infoError;
        const point = resumePoint(requested, infoError ? null : parseBounds(info));
        if (!point.reset) {
          if (rangeError) throw rangeError;
          return { reset, events: (range as RawEntry[]).map(toEvent) };
        }
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
        if (!available) throw new Error('redisStore: Redis is unreachable');
      } catch (error) {
        listeners.delete(listener);
        if (!needsTail()) stopTail();
        throw error;
      }
      return () => {
        if (listeners.delete(listener) && !needsTail()) stopTail();
      };
    },

    join: (member) => group.join(member),

    async close() {
      if (closed) return;
      await group.close();
      closed = true;
      stopTail();
      listeners.clear();
      if (commands) {
        const opened = await commands.catch(() => null);
        opened?.gate.close();
        await opened?.connection.quit().catch(() => opened.connection.disconnect());
      }
    },
  };
}

interface Tail {
  stop(): void;
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
