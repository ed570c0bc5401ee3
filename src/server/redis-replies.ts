import { isCursor } from '../protocol/wire.js';
import type { StoredEvent } from './event-store.js';
import type { RedisClient } from './redis-client.js';
import type { LogBounds } from './resume-point.js';

/**
 * How redisStore reads what Redis answers: stream entries as events, XREAD replies over RESP2
 * and RESP3, the bounds of the log in `XINFO STREAM`, and the ids it can send to XRANGE.
 */

/** `[id, [field, value, …]]` as XRANGE and XREAD give it. */
export type RawEntry = [string, string[]];

const MAX_ID_PART = 2n ** 64n - 1n;

/**
 * The exclusive start of an XRANGE after `cursor`. A cursor Redis cannot parse (past 64 bits,
 * not a cursor at all) reads from the start instead: such a cursor is unknown to the log, and
 * the read answers with a reset whatever the range held.
 */
export function rangeStart(cursor: string): string {
  if (!isCursor(cursor)) return '-';
  const [a, b] = cursor.split('-') as [string, string];
  if (BigInt(a) > MAX_ID_PART || BigInt(b) >= MAX_ID_PART) return '-';
  return `(${cursor}`;
}

/**
 * The entries per stream of an `XREAD` reply: `[[key, entries], …]` over RESP2, `[key,
 * entries, key, entries, …]` over RESP3 (a map, which ioredis flattens).
 */
export function streamsOf(reply: unknown): Array<[string, RawEntry[]]> {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (typeof reply[0] !== 'string') return reply as Array<[string, RawEntry[]]>;
  const pairs: Array<[string, RawEntry[]]> = [];
  for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i] as string, reply[i + 1] as RawEntry[]]);
  return pairs;
}

export function toEvent([cursor, fields]: RawEntry): StoredEvent {
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
export function follows(previous: string, next: string): boolean {
  const [generation, n] = next.split('-') as [string, string];
  if (previous === '0-0') return n === '1';
  const [lastGeneration, last] = previous.split('-') as [string, string];
  return generation === lastGeneration && BigInt(n) === BigInt(last) + 1n;
}

/** The bounds in an `XINFO STREAM` reply (a flat list of names and values), null for none. */
export function parseBounds(info: unknown): LogBounds | null {
  if (!Array.isArray(info)) return null;
  const field = (name: string): unknown => info[info.indexOf(name) + 1];
  const [generation, last] = String(field('last-generated-id')).split('-') as [string, string];
  const firstEntry = field('first-entry') as RawEntry | null;
  const lastOrdinal = BigInt(last);
  const first = Number(field('length')) > 0 && firstEntry ? BigInt(firstEntry[0].split('-')[1]!) : lastOrdinal + 1n;
  return { generation, first, last: lastOrdinal };
}

export async function xinfo(redis: RedisClient, key: string): Promise<unknown> {
  try {
    return await redis.call('XINFO', 'STREAM', key);
  } catch (error) {
    if (isMissingKey(error)) return null;
    throw error;
  }
}

/** The id of the newest entry of a stream, `0-0` when it has none. */
export async function lastEntry(redis: RedisClient, key: string): Promise<string> {
  const newest = (await redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)) as RawEntry[];
  return newest[0]?.[0] ?? '0-0';
}

export function isMissingKey(error: unknown): boolean {
  return /no such key/i.test(String((error as Error)?.message));
}

