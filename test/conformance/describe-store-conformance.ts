// The EventStore contract (src/server/event-store.ts) as one Vitest suite that runs on any store:
// `describeStoreConformance(name, target)`. memoryStore and redisStore run it (store-*.test.ts);
// a store written for an application can too. Two handles on one log stand for two instances.
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlMessage, EventStore, StoredEvent, StoreMember, StoreMembership } from 'ssemux/server';
import { compareCursors, isCursor } from '../../src/protocol/wire.js';
import { sleep } from './sse-client.js';

export interface StoreTarget {
  /** A store on a log of its own. */
  open(): EventStore;
  /** Another handle on the log of `store`, as another instance of the deployment would have. */
  peer(store: EventStore): EventStore;
}

/** Polls `check` until it passes, or throws its last error after `ms`. */
async function eventually(check: () => void | Promise<void>, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(10);
    }
  }
}

const event = (data: string, extra: { topic?: string; user?: string; type?: string } = {}) => ({
  topic: extra.topic ?? 't',
  type: extra.type ?? 'message',
  data,
  ...(extra.user !== undefined ? { user: extra.user } : {}),
});

/** Cursors no log can know: beyond 64 bits, of another log, of the future, garbage of the right shape or not. */
const FOREIGN_CURSORS = [
  '18446744073709551616-0',
  '18446744073709551615-18446744073709551615',
  '0-18446744073709551616',
  `${'9'.repeat(40)}-1`,
  '1-1',
  '0-1',
  '00-1',
  '-1-1',
  '1.5-2',
  'not a cursor',
  '',
  `${'1'.repeat(5000)}-${'2'.repeat(5000)}`,
];

export function describeStoreConformance(name: string, target: StoreTarget): void {
  const opened: EventStore[] = [];
  const open = () => {
    const store = target.open();
    opened.push(store);
    return store;
  };
  const peer = (store: EventStore) => {
    const other = target.peer(store);
    if (other !== store) opened.push(other);
    return other;
  };

  describe(`EventStore contract: ${name}`, () => {
    afterEach(async () => {
      for (const store of opened.splice(0).reverse()) await store.close();
    });

    describe('the log', () => {
      it('gives strictly increasing cursors in append order, also to appends not awaited, and reads them back exactly', async () => {
        const store = open();
        const start = await store.head();
        const calls = Array.from({ length: 100 }, (_, i) => store.append(event(String(i), { topic: `t${i % 3}`, user: i % 5 ? undefined : 'ann' })));
        const stored = await Promise.all(calls);
        for (const [i, one] of stored.entries()) {
          expect(isCursor(one.cursor)).toBe(true);
          if (i > 0) expect(compareCursors(stored[i - 1]!.cursor, one.cursor)).toBeLessThan(0);
        }
        expect(stored.map((one) => one.data)).toEqual(stored.map((_, i) => String(i)));
        expect((await store.read(start, 1000)).events).toEqual(stored);
        expect(await store.head()).toBe(stored.at(-1)!.cursor);
        expect(await store.read(stored[49]!.cursor, 10)).toEqual({ reset: undefined, events: stored.slice(50, 60) });
      });

      it('reads a page of exactly limit events while more follow: a shorter page means the end of the log', async () => {
        const store = open();
        const start = await store.head();
        const stored = await Promise.all(Array.from({ length: 300 }, (_, i) => store.append(event(String(i)))));
        const first = await store.read(start, 250);
        expect(first.events).toEqual(stored.slice(0, 250));
        expect((await store.read(first.events.at(-1)!.cursor, 250)).events).toEqual(stored.slice(250));
      });

      it('keeps topic, user, type and data of any well-formed text exactly, and tells names apart that UTF-8 could merge', async () => {
        const store = open();
        const names = ['room/\uFFFD', 'room/\u{1F600}', 'room/\u00E9', 'room/e\u0301', '注文/東京', 'emoji 👍🏽'];
        const appended: StoredEvent[] = [];
        for (const name of names) appended.push(await store.append({ topic: name, type: `type ${name}`, data: `data ${name}\r\n…`, user: name }));
        const read = (await store.read('0-0', 100)).events;
        expect(read).toEqual(appended);
        expect(read.map((one) => one.topic)).toEqual(names);
        expect(read.map((one) => one.user)).toEqual(names);
      });

      it('answers any cursor it cannot know with an unknown-cursor reset and the whole log, never an error', async () => {
        const store = open();
        const empty = await store.read('18446744073709551616-0', 10);
        expect(empty.reset?.reason).toBe('unknown-cursor');
        expect(empty.events).toEqual([]);
        const events = [await store.append(event('a')), await store.append(event('b'))];
        const [generation, n] = events[1]!.cursor.split('-') as [string, string];
        const ahead = `${generation}-${BigInt(n) + 1n}`;
        const other = `${BigInt(generation) + 1n}-1`;
        for (const cursor of [...FOREIGN_CURSORS, ahead, other]) {
          const page = await store.read(cursor, 10);
          expect(page.reset?.reason, JSON.stringify(cursor.slice(0, 40))).toBe('unknown-cursor');
          expect(compareCursors(page.reset!.cursor, events[0]!.cursor)).toBeLessThan(0);
          expect(page.events).toEqual(events);
        }
        expect(await store.read('0-0', 10)).toEqual({ reset: undefined, events });
      });
    });

    describe('subscribers', () => {
      it('get every event appended after subscribe resolved, from any instance, in cursor order, until they unsubscribe', async () => {
        const store = open();
        const other = peer(store);
        const seen: StoredEvent[] = [];
        const unsubscribe = await store.subscribe({ event: (one) => seen.push(one), lost: () => {} });
        const appended = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? other : store).append(event(String(i)))));
        await eventually(() => expect(seen).toHaveLength(40));
        expect(seen.map((one) => one.cursor)).toEqual(appended.map((one) => one.cursor).sort(compareCursors));
        unsubscribe();
        await store.append(event('after'));
        await sleep(100);
        expect(seen).toHaveLength(40);
      });
    });

    describe('the group of servers (join)', () => {
      /** A member that records what it receives and answers with `answer(message)`. */
      const member = (answer: (message: ControlMessage) => unknown = () => 'ok') => {
        const received: ControlMessage[] = [];
        const it: StoreMember = {
          receive(message) {
            received.push(message);
            return answer(message);
          },
        };
        return { member: it, received };
      };

      it('lists the live members, delivers a broadcast to every other one with its answer, and not to the sender', async () => {
        const store = open();
        const other = peer(store);
        const a = member();
        const b = member((message) => ({ echo: message.value, from: 'b' }));
        const c = member(() => 3);
        const ja = await store.join(a.member);
        const jb = await other.join(b.member);
        const jc = await other.join(c.member);
        expect(new Set([ja.id, jb.id, jc.id]).size).toBe(3);
        for (const membership of [ja, jb, jc]) expect(new Set(await membership.members())).toEqual(new Set([ja.id, jb.id, jc.id]));

        const result = await ja.broadcast({ type: 'test', value: ['é', 1, null] }, 5_000);
        expect(result.missing).toBe(0);
        expect(result.answers).toHaveLength(2);
        expect(result.answers).toEqual(expect.arrayContaining([{ echo: ['é', 1, null], from: 'b' }, 3]));
        expect(b.received).toEqual([{ type: 'test', value: ['é', 1, null] }]);
        expect(c.received).toEqual([{ type: 'test', value: ['é', 1, null] }]);
        expect(a.received).toEqual([]);
      });

      it('forgets a member that left: no longer listed, no more messages, not waited for', async () => {
        const store = open();
        const other = peer(store);
        const a = member();
        const b = member();
        const ja = await store.join(a.member);
        const jb = await other.join(b.member);
        await jb.leave();
        expect(await ja.members()).toEqual([ja.id]);
        const started = Date.now();
        expect(await ja.broadcast({ type: 'test' }, 5_000)).toEqual({ answers: [], missing: 0 });
        expect(Date.now() - started).toBeLessThan(2_000);
        await sleep(100);
        expect(b.received).toEqual([]);
      });

      it('hands a notice to every other member and not to the sender, in the order sent with broadcasts', async () => {
        const store = open();
        const other = peer(store);
        const a = member();
        const b = member();
        const c = member();
        const ja = await store.join(a.member);
        await other.join(b.member);
        await other.join(c.member);
        await ja.notify({ type: 'notice', value: 1 });
        await ja.broadcast({ type: 'ask', value: 2 }, 5_000);
        void ja.notify({ type: 'notice', value: 3 });
        await ja.notify({ type: 'notice', value: ['é', 4, null] });
        await eventually(() => expect(c.received).toHaveLength(4));
        await eventually(() => expect(b.received).toHaveLength(4));
        for (const { received } of [b, c]) expect(received.map((message) => message.value)).toEqual([1, 2, 3, ['é', 4, null]]);
        expect(a.received).toEqual([]);
      });

      it('delivers a notice a member sent while answering a broadcast before counting its answer', async () => {
        const store = open();
        const other = peer(store);
        const a = member();
        const ja = await store.join(a.member);
        let jb: StoreMembership | undefined;
        const b = member(async () => {
          await jb!.notify({ type: 'notice', value: 'while answering' });
          return 'answer';
        });
        jb = await other.join(b.member);
        const result = await ja.broadcast({ type: 'ask' }, 5_000);
        expect(result).toEqual({ answers: ['answer'], missing: 0 });
        expect(a.received).toEqual([{ type: 'notice', value: 'while answering' }]);
      });

      it('resolves after the timeout with the answers it has, counting a member that did not answer as missing', async () => {
        const store = open();
        const other = peer(store);
        const ja = await store.join(member().member);
        await other.join(member(() => new Promise(() => {})).member);
        await other.join(member(() => 'quick').member);
        const started = Date.now();
        const result = await ja.broadcast({ type: 'test' }, 300);
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        expect(result).toEqual({ answers: ['quick'], missing: 1 });
      });
    });
  });
}
