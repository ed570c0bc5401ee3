import { createHash, randomInt } from 'node:crypto';
import { clampDelay, MAX_TIMER_MS } from '../protocol/delays.js';
import { compareCursors } from '../protocol/wire.js';
import { deliver } from './deliver.js';
import type { EventStore, NewEvent, ReadReset, StoreListener } from './event-store.js';
import { connectionRules, createReadyGate, openConnection, type ReadyGate, type RedisClient } from './redis-client.js';
import { createRedisGroup, missedControlEntries } from './redis-group.js';
import { follows, isMissingKey, lastEntry, parseBounds, rangeStart, streamsOf, toEvent, xinfo, type RawEntry } from './redis-replies.js';
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

/**
 * Random decimal digits after the Redis time (ms) in a new generation: two logs started in the
 * same millisecond (two keys on one Redis: tenants, staging and production) must not share a
 * generation, or a cursor of one would pass on the other. Six digits, as memoryStore has: the
 * generation (ms × 10^6 + digits) fits a stream id's 64 bits until the year 2554.
 */
const GENERATION_RANDOM_DIGITS = 6;

// What the scripts share. KEYS[1] is the stream, KEYS[2] the last generation it was given.
// Generations pass 2^53, where Lua's numbers lose digits: they are compared and counted as text.
const LOG_SCRIPT_HELPERS = `
local function idParts(id)
  return string.match(id, '^(%d+)-(%d+)$')
end
local function numberBelow(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function idBelow(a, b)
  local aGeneration, aN = idParts(a)
  local bGeneration, bN = idParts(b)
  if aGeneration ~= bGeneration then return numberBelow(aGeneration, bGeneration) end
  return numberBelow(aN, bN)
end
local function plusOne(number)
  local i = #number
  while i > 0 and string.sub(number, i, i) == '9' do i = i - 1 end
  if i == 0 then return '1' .. string.rep('0', #number) end
  return string.sub(number, 1, i - 1) .. string.char(string.byte(number, i) + 1) .. string.rep('0', #number - i)
end
local function lastGeneration()
  return redis.call('GET', KEYS[2]) or '0'
end
-- The newest entry of the log, nil when it has none. A newest entry behind seen, a cursor this
-- instance was handed, means Redis lost entries (restarted from an older snapshot, a replica
-- promoted behind its primary) and would number the next ones as those it lost: their cursors,
-- still held by clients, would pass for the new events. The log is then dropped, so that the
-- next append starts a new generation (above seen's) and every old cursor gets a reset.
local function newestKeptEntry(seen)
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if top and not idBelow(top[1], seen) then return top end
  if top then redis.call('DEL', KEYS[1]) end
  local seenGeneration = idParts(seen)
  if numberBelow(lastGeneration(), seenGeneration) then redis.call('SET', KEYS[2], seenGeneration) end
  return nil
end
`;

// Appends with the id `<generation>-*`: Redis numbers the entries of one generation 1, 2, 3, …
// without holes, which `resumePoint` needs. A new generation is the Redis time (ms) at which the
// stream was started followed by random digits (ARGV[2]), and always above the last one (kept in
// `<key>:generation`), so a stream started anew (deleted, or a flushed or restarted Redis) never
// accepts the cursors of the one before. ARGV[1] is the newest cursor this instance saw, ARGV[3]
// maxLen, then the fields. Atomic, so instances cannot interleave.
const APPEND = `${LOG_SCRIPT_HELPERS}
local top = newestKeptEntry(ARGV[1])
local id
if top then
  id = idParts(top[1]) .. '-*'
else
  local now = redis.call('TIME')
  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  local generation = string.format('%.0f', ms) .. ARGV[2]
  local previous = lastGeneration()
  if not numberBelow(previous, generation) then generation = plusOne(previous) end
  redis.call('SET', KEYS[2], generation)
  id = generation .. '-1'
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], id, unpack(ARGV, 4))
`;
const APPEND_SHA = createHash('sha1').update(APPEND).digest('hex');

// What the tail runs when it finds the log behind a cursor this instance saw (ARGV[1]): the same
// check as an append's, atomic too, so two instances that notice at once drop the log once, and
// one that notices after another instance started the new generation drops nothing.
const DROP_LOG_BEHIND = `${LOG_SCRIPT_HELPERS}
newestKeptEntry(ARGV[1])
return 0
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
    if (name.endsWith('Ms') && config[name] > MAX_TIMER_MS) throw new TypeError(`redisStore: ${name} must be at most ${MAX_TIMER_MS} (about 24.8 days, the longest a timer waits)`);
  }
  const { key, commandTimeoutMs } = config;
  const controlKey = `${key}:control`;
  // Remembers the last generation: a stream deleted and started again within one millisecond
  // must still get a new one, or old cursors would pass for new.
  const generationKey = `${key}:generation`;
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
  // The last control entry read, kept across tails while someone needs one: a tail made after
  // the last one's connection ended reads on from there.
  let controlLast: string | null = null;
  let available = true;
  let closed = false;
  // The newest cursor this instance was handed (appended, read, or given as the head): Redis's
  // log behind it has lost entries, and would hand their cursors out again (see the scripts).
  let newestSeen = '0-0';
  const saw = (cursor: string) => {
    if (compareCursors(cursor, newestSeen) > 0) newestSeen = cursor;
  };

  const headOf = (bounds: LogBounds | null) => (bounds ? `${bounds.generation}-${bounds.last}` : '0-0');
  const head = async () => {
    const cursor = headOf(parseBounds(await xinfo(await ready(), key)));
    saw(cursor);
    return cursor;
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

  /** Whether `<key>:control` may have lost entries after the last one read (`controlLast`). */
  const controlMissed = async () => controlLast !== null && missedControlEntries(await xinfo(await ready(), controlKey), controlLast);

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
      if (controlLast === null) controlLast = await lastEntry(await ready(), controlKey);
      // A tail after one whose connection ended: its streams ended with it, but presence notices
      // may be gone too.
      else if (await controlMissed()) group.controlMissed();
    } catch (error) {
      stop();
      throw error;
    }

    /** After the connection came back: did `<key>:control` lose entries this tail had not read? */
    const checkControl = async () => {
      if (!(await controlMissed())) return;
      // A disconnect() among them would go unheeded, so every stream of this instance ends (its
      // client reconnects, meets authenticate again and resumes exactly from its cursor). That
      // costs a reconnect of every client here: done only when a revocation may have been
      // missed, which takes more control entries written while the tail was away than the
      // stream keeps.
      loseListeners(new Error(`redisStore: ${controlKey} was trimmed past the last control message read while Redis was unreachable; streams end to reconnect, since a disconnect() may have been missed`));
      group.controlMissed();
    };

    /** A read that outlives its block by the command bound is a dead connection: make a new one. */
    const read = () => {
      const reply = connection.call('XREAD', 'COUNT', config.tailBatch, 'BLOCK', config.blockMs, 'STREAMS', key, controlKey, last, controlLast!);
      watchdog = setTimeout(() => connection.disconnect(true), clampDelay(config.blockMs + commandTimeoutMs));
      return reply.finally(() => clearTimeout(watchdog));
    };

    /**
     * After the connection came back: was the log started anew meanwhile (a Redis restarted
     * empty), or has it gone back behind what this instance saw (restarted from an older
     * snapshot)? Then it is dropped here, before any other instance appends to it, so that a
     * publisher that never saw the lost entries cannot hand their cursors out again.
     */
    const checkLog = async () => {
      let now = parseBounds(await xinfo(await ready(), key));
      if (compareCursors(headOf(now), newestSeen) < 0) {
        await (await ready()).call('EVAL', DROP_LOG_BEHIND, 2, key, generationKey, newestSeen);
        now = parseBounds(await xinfo(await ready(), key));
      }
      if (last === '0-0') return;
      const [generation, n] = last.split('-') as [string, string];
      if (now && now.generation === generation && now.last >= BigInt(n)) return;
      last = headOf(now);
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
              await checkControl();
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
            saw(last);
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
    // No subscriber or member is left to have missed anything: a later tail starts at the end.
    controlLast = null;
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
      const randomDigits = String(randomInt(10 ** GENERATION_RANDOM_DIGITS)).padStart(GENERATION_RANDOM_DIGITS, '0');
      const args = [2, key, generationKey, newestSeen, randomDigits, config.maxLen, ...fields];
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
      saw(String(cursor));
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
          const events = (range as RawEntry[]).map(toEvent);
          if (events.length > 0) saw(events.at(-1)!.cursor);
          return { reset, events };
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
