import { randomUUID } from 'node:crypto';
import { compareCursors } from '../protocol/wire.js';
import type { StoreMember, StoreMembership } from './event-store.js';
import type { RawEntry } from './redis-replies.js';

/** Entries kept in `<key>:control` (`MAXLEN ~`): the last few broadcasts, answers and notices. */
const CONTROL_MAX_LEN = 1_000;

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

/** The instances that share one redisStore's key, as this store takes part in it. */
export interface RedisGroup {
  /** Members of this store object (servers of this process), while they are joined. */
  readonly size: number;
  join(member: StoreMember): Promise<StoreMembership>;
  /** An entry of `<key>:control` the tail read: a message to hand to the members, or an answer. */
  onControl(fields: string[]): void;
  /**
   * The tail may have missed entries of `<key>:control` (see {@link missedControlEntries}):
   * every member is told as on a rejoin, so that presence says all it has and asks the others.
   */
  controlMissed(): void;
  /** Leaves for every member of this store, as far as Redis is reachable, and stops their timers. */
  close(): Promise<void>;
}

/**
 * The group of the instances on one key. `<key>:members` is the registry of live members, a
 * sorted set scored by when each one's lease ends; `<key>:control` carries broadcasts and their
 * answers, and is read by the store's tail (which must run while a member is joined: `tail`).
 */
export function createRedisGroup(options: {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /** True when commands can be sent now (leaving does not wait for an absent Redis). */
  connected(): Promise<boolean>;
  controlKey: string;
  membersKey: string;
  memberLeaseMs: number;
  /** Starts the tail (or waits for it); `release` stops it when nothing needs it any more. */
  tail: { ensure(): Promise<void>; release(): void };
}): RedisGroup {
  const { call, connected, controlKey, membersKey, memberLeaseMs } = options;
  const members = new Map<string, StoreMember>();
  // Each member's lease renewal timer, until it leaves or the store closes.
  const renewals = new Map<string, ReturnType<typeof setInterval>>();
  const broadcasts = new Map<string, { answer(from: string, value: unknown): void; finish(): void }>();
  let closed = false;

  const onControl = (fields: string[]) => {
    const field = (name: string) => fields[fields.indexOf(name) + 1];
    const [kind, request, from, body] = [field('k'), field('i'), field('f'), field('b')];
    if (kind === 'a') {
      if (request !== undefined && from !== undefined) broadcasts.get(request)?.answer(from, parse(body));
      return;
    }
    if (kind === 'n') {
      // A notice: handed to the members in the order of the stream, with no answer.
      const message = parse(body);
      if (from === undefined || typeof message !== 'object' || message === null) return;
      for (const [id, member] of members) {
        if (id === from) continue;
        try {
          void Promise.resolve(member.receive(message as never)).catch(() => {});
        } catch {
          // A member that fails on a notice fails alone.
        }
      }
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

  const join = async (member: StoreMember): Promise<StoreMembership> => {
    if (closed) throw new Error('redisStore: closed');
    const id = randomUUID();
    let renewed = false;
    const renew = async () => {
      const [added, ...expired] = (await call('EVAL', RENEW, 1, membersKey, id, memberLeaseMs)) as string[];
      if (added === '1' && renewed) member.rejoined?.();
      renewed = true;
      for (const gone of expired) if (!members.has(gone)) member.memberGone?.(gone);
    };
    members.set(id, member);
    try {
      await options.tail.ensure();
      await renew();
    } catch (error) {
      members.delete(id);
      options.tail.release();
      throw error;
    }
    // Renewals that fail (Redis away) are made up by the next; the lease outlasts two misses.
    renewals.set(id, setInterval(() => void renew().catch(() => {}), Math.max(1, Math.floor(memberLeaseMs / 3))));
    let left = false;

    return {
      id,
      async members() {
        return (await call('EVAL', LIVE, 1, membersKey)) as string[];
      },
      async broadcast(message, timeoutMs) {
        if (left) throw new Error('broadcast: this member left the group');
        const others = ((await call('EVAL', LIVE, 1, membersKey)) as string[]).filter((other) => other !== id);
        const request = randomUUID();
        const send = () => call('XADD', controlKey, 'MAXLEN', '~', CONTROL_MAX_LEN, '*', 'k', 'm', 'i', request, 'f', id, 'b', JSON.stringify(message));
        if (others.length === 0) {
          // Written all the same, with no one to wait for: an instance whose lease ended while it
          // was cut off from Redis is not listed, yet it still holds streams, and reads on from
          // its last control entry when it is back (a disconnect() must reach it then).
          await send();
          return { answers: [], missing: 0 };
        }
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
          send().catch((error: unknown) => {
            clearTimeout(timer);
            broadcasts.delete(request);
            reject(error);
          });
        });
      },
      async notify(message) {
        if (left) throw new Error('notify: this member left the group');
        await call('XADD', controlKey, 'MAXLEN', '~', CONTROL_MAX_LEN, '*', 'k', 'n', 'f', id, 'b', JSON.stringify(message));
      },
      async leave() {
        if (left) return;
        left = true;
        clearInterval(renewals.get(id));
        renewals.delete(id);
        members.delete(id);
        options.tail.release();
        // With Redis away, the lease ends it: leaving does not wait for Redis to come back.
        if (await connected()) await call('ZREM', membersKey, id).catch(() => {});
      },
    };
  };

  return {
    get size() {
      return members.size;
    },
    join,
    onControl,
    controlMissed() {
      for (const member of [...members.values()]) {
        try {
          member.rejoined?.();
        } catch {
          // A member that fails here fails alone.
        }
      }
    },
    async close() {
      const leaving = [...members.keys()];
      closed = true;
      members.clear();
      for (const timer of renewals.values()) clearInterval(timer);
      renewals.clear();
      for (const broadcast of [...broadcasts.values()]) broadcast.finish();
      if (leaving.length > 0 && (await connected())) await call('ZREM', membersKey, ...leaving).catch(() => {});
    },
  };
}

/**
 * Whether `<key>:control` may no longer hold every entry after `after` (the last one a tail
 * read), from its `XINFO STREAM` reply (null for a missing key). Trimming (`MAXLEN ~`) drops the
 * oldest entries, so the stream is whole after `after` while it still holds `after` or an older
 * entry. Its ids are Redis times, not numbered like the log's, so once `after` is gone nothing
 * tells whether the oldest entry kept is the one right after it: that counts as a gap. It takes
 * more than `CONTROL_MAX_LEN` entries written while the tail was away.
 */
export function missedControlEntries(info: unknown, after: string): boolean {
  // Deleted, or a Redis restarted empty: what it held after `after` is gone.
  if (!Array.isArray(info)) return after !== '0-0';
  const field = (name: string): unknown => info[info.indexOf(name) + 1];
  const sinceRead = compareCursors(String(field('last-generated-id')), after);
  if (sinceRead === 0) return false; // nothing written since
  if (sinceRead < 0) return true; // started anew, behind `after`
  const first = field('first-entry') as RawEntry | null;
  if (first && compareCursors(first[0], after) <= 0) return false;
  // `after` is gone, or was never in it: whole only when read from the start and never trimmed.
  return !(after === '0-0' && Number(field('entries-added')) === Number(field('length')));
}

function parse(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
