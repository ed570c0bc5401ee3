import { createHash, randomUUID } from 'node:crypto';
import { isCursor } from '../protocol/wire.js';
import { deliver } from './deliver.js';
import type { EventStore, NewEvent, ReadReset, StoredEvent, StoreListener, StoreMember, StoreMembership } from './event-store.js';
import { connectionRules, createReadyGate, openConnection, type ReadyGate, type RedisClient } from './redis-client.js';
import { resumePoint, type LogBounds } from './resume-point.js';

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

/** Entries kept in `<key>:control` (`MAXLEN ~`): messages and answers of the last few broadcasts. */
const CONTROL_MAX_LEN = 1_000;

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

// The registry of live members: a sorted set scored by when each lease ends, on Redis's clock
// (the instances' clocks may disagree). Renewing also drops the members whose lease ended and
// returns them: the one renewal that dropped a member is the one told that it is gone.
// The first element of the reply says whether the member was listed anew (its lease had ended).
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
if #expired > 0 then redis.call('ZREM', KEYS[1], unpack(expired)) end
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local reply = { tostring(added) }
for _, id in ipairs(expired) do if id ~= ARGV[1] then reply[#reply + 1] = id end end
return reply
`;
const LIVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], string.format('%.0f', now), '+inf')
`;

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
  const members = new Map<string, StoreMember>();
  // Each member's lease renewal timer, until it leaves or the store closes.
  const renewals = new Map<string, ReturnType<typeof setInterval>>();
  const broadcasts = new Map<string, { answer(from: string, value: unknown): void; finish(): void }>();
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

  const onControl = (fields: string[]) => {
    const field = (name: string) => fields[fields.indexOf(name) + 1];
    const [kind, request, from, body] = [field('k'), field('i'), field('f'), field('b')];
    if (kind === 'a') {
      if (request !== undefined && from !== undefined) broadcasts.get(request)?.answer(from, parse(body));
      return;
    }
    if (kind !== 'm' || request === undefined || from === undefined) return;
    const message = parse(body);
    if (typeof message !== 'object' || message === null) return;
    for (const [id, member] of members) {
      if (id === from) continue;
      void (async () => {
        const answer = await member.receive(message as never);
        await call('XADD', controlKey, 'MAXLEN', '~', CONTROL_MAX_LEN, '*', 'k', 'a', 'i', request, 'f', id, 't', from, 'b', JSON.stringify(answer ?? null));
      })().catch(() => {}); // no answer: the sender counts this member as missing
    }
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
      watchdog = setTimeout(() => connection.disconnect(true), config.blockMs + commandTimeoutMs);
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
              onControl(fields);
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

  const needsTail = () => listeners.size > 0 || members.size > 0;
  const stopTail = () => {
    tail?.stop();
    tail = null;
  };
  const ensureTail = async () => {
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

  const join = async (member: StoreMember): Promise<StoreMembership> => {
    if (closed) throw new Error('redisStore: closed');
    const id = randomUUID();
    let renewed = false;
    const renew = async () => {
      const [added, ...expired] = (await call('EVAL', RENEW, 1, membersKey, id, config.memberLeaseMs)) as string[];
      if (added === '1' && renewed) member.rejoined?.();
      renewed = true;
      for (const gone of expired) if (!members.has(gone)) member.memberGone?.(gone);
    };
    members.set(id, member);
    try {
      await ensureTail();
      await renew();
    } catch (error) {
      members.delete(id);
      if (!needsTail()) stopTail();
      throw error;
    }
    // Renewals that fail (Redis away) are made up by the next; the lease outlasts two misses.
    renewals.set(id, setInterval(() => void renew().catch(() => {}), Math.max(1, Math.floor(config.memberLeaseMs / 3))));
    let left = false;

    return {
      id,
      async members() {
        return (await call('EVAL', LIVE, 1, membersKey)) as string[];
      },
      async broadcast(message, timeoutMs) {
        if (left) throw new Error('broadcast: this member left the group');
        const others = ((await call('EVAL', LIVE, 1, membersKey)) as string[]).filter((other) => other !== id);
        if (others.length === 0) return { answers: [], missing: 0 };
        const request = randomUUID();
        const waiting = new Set(others);
        const answers: unknown[] = [];
        return new Promise((resolve, reject) => {
          const finish = () => {
            clearTimeout(timer);
            broadcasts.delete(request);
            resolve({ answers, missing: waiting.size });
          };
          const timer = setTimeout(finish, timeoutMs);
          broadcasts.set(request, {
            answer(from, value) {
              if (!waiting.delete(from)) return;
              answers.push(value);
              if (waiting.size === 0) finish();
            },
            finish,
          });
          call('XADD', controlKey, 'MAXLEN', '~', CONTROL_MAX_LEN, '*', 'k', 'm', 'i', request, 'f', id, 'b', JSON.stringify(message)).catch((error: unknown) => {
            clearTimeout(timer);
            broadcasts.delete(request);
            reject(error);
          });
        });
      },
      async leave() {
        if (left) return;
        left = true;
        clearInterval(renewals.get(id));
        renewals.delete(id);
        members.delete(id);
        if (!needsTail()) stopTail();
        // With Redis away, the lease ends it: leaving does not wait for Redis to come back.
        if (await connected()) await call('ZREM', membersKey, id).catch(() => {});
      },
    };
  };

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

    join,

    async close() {
      if (closed) return;
      const leaving = [...members.keys()];
      if (leaving.length > 0 && (await connected())) await call('ZREM', membersKey, ...leaving).catch(() => {});
      closed = true;
      stopTail();
      listeners.clear();
      members.clear();
      for (const timer of renewals.values()) clearInterval(timer);
      renewals.clear();
      for (const broadcast of [...broadcasts.values()]) broadcast.finish();
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

/** `[id, [field, value, …]]` as XRANGE and XREAD give it. */
type RawEntry = [string, string[]];

const MAX_ID_PART = 2n ** 64n - 1n;

/**
 * The exclusive start of an XRANGE after `cursor`. A cursor Redis cannot parse (past 64 bits,
 * not a cursor at all) reads from the start instead: such a cursor is unknown to the log, and
 * the read answers with a reset whatever the range held.
 */
function rangeStart(cursor: string): string {
  if (!isCursor(cursor)) return '-';
  const [a, b] = cursor.split('-') as [string, string];
  if (BigInt(a) > MAX_ID_PART || BigInt(b) >= MAX_ID_PART) return '-';
  return `(${cursor}`;
}

/**
 * The entries per stream of an `XREAD` reply: `[[key, entries], …]` over RESP2, `[key,
 * entries, key, entries, …]` over RESP3 (a map, which ioredis flattens).
 */
function streamsOf(reply: unknown): Array<[string, RawEntry[]]> {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (typeof reply[0] !== 'string') return reply as Array<[string, RawEntry[]]>;
  const pairs: Array<[string, RawEntry[]]> = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i] as string, reply[i + 1] as RawEntry[]]);
  return pairs;
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

/** The id of the newest entry of a stream, `0-0` when it has none. */
async function lastEntry(redis: RedisClient, key: string): Promise<string> {
  const newest = (await redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)) as RawEntry[];
  return newest[0]?.[0] ?? '0-0';
}

function isMissingKey(error: unknown): boolean {
  return /no such key/i.test(String((error as Error)?.message));
}

function parse(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
