// The ssemux server protocol (the server protocol in the README) as a Vitest suite that runs against any
// base URL: `describeConformance(name, target)`. Features a server may not offer (users,
// denied topics, short timers) are declared only when the target says how to reach them.
import { afterEach, describe, expect, it } from 'vitest';
import { compareCursors, isCursor } from '../../src/protocol/wire.js';
import { abortAll, dataEvents, openSse, sleep, splitTopic, type SseEvent, type SseResponse } from './sse-client.js';

/** An event to publish through the target. */
export interface ConformanceEvent {
  topic: string;
  type?: string;
  data: string;
  user?: string;
}

export interface ConformanceTarget {
  /** The server, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** @default '/events' */
  eventsPath?: string;
  /** Publishes an event; resolves with its cursor. */
  publish(event: ConformanceEvent): Promise<string>;
  /** Request headers that authenticate as `user`; enables the per-user tests. */
  headersFor?(user: string): Record<string, string>;
  /** The server answers 401 to a request without credentials (needs `headersFor`). */
  requiresAuth?: boolean;
  /** A topic that no identity may read; enables the `ssemux:denied` and 204 tests. */
  deniedTopic?: string;
  /** The topic of plain connections; enables the plain connection test. */
  defaultTopic?: string;
  /** The server's heartbeat interval, when at most 5 s; enables the heartbeat test. */
  heartbeatMs?: number;
  /** How long the server holds a long-poll with nothing to say, when at most 5 s. */
  longPollMs?: number;
  /** After publishing this many events, the log surely no longer has the one before them; enables the retention test. */
  retention?: number;
  /**
   * The server counts presence: its grace (the grace tests run when it is 200 ms to 2 s) and,
   * when known, how many members one event lists. Enables the presence tests (with `headersFor`).
   */
  presence?: { graceMs: number; maxMembers?: number };
}

interface PresenceData {
  members: { user: string; browsers: number }[];
  anonymous: number;
  truncated?: true;
  change?: { user: string | null; browsers: number };
}

const FUTURE_CURSOR = `${'9'.repeat(18)}-0`;

export function describeConformance(name: string, target: ConformanceTarget): void {
  const eventsUrl = `${target.baseUrl}${target.eventsPath ?? '/events'}`;
  const run = Math.random().toString(36).slice(2, 8);
  let topics = 0;
  /** A topic no other test (or earlier run) publishes to. */
  const fresh = (label = 't') => `conf/${run}/${label}-${++topics}`;
  const headers = (user = 'conformance'): Record<string, string> =>
    target.headersFor && (target.requiresAuth || user !== 'conformance') ? target.headersFor(user) : {};
  const query = (selected: string[], extra: Record<string, string> = {}) => {
    const params = new URLSearchParams();
    for (const topic of selected) params.append('topic', topic);
    for (const [key, value] of Object.entries(extra)) params.set(key, value);
    return `${eventsUrl}?${params}`;
  };
  const stream = (selected: string[], init: { cursor?: string; user?: string; extra?: Record<string, string> } = {}) =>
    openSse(query(selected, init.extra), {
      headers: { ...headers(init.user), ...(init.cursor !== undefined ? { 'Last-Event-ID': init.cursor } : {}) },
    });
  /** Long-poll answers are complete responses: read to the end. */
  const poll = async (selected: string[], init: { cursor?: string; user?: string } = {}) => {
    const res = await stream(selected, { ...init, extra: { transport: 'long-poll' } });
    await res.settled(10_000);
    return res;
  };
  const publishAll = async (topic: string, count: number, extra: Partial<ConformanceEvent> = {}) => {
    const cursors: string[] = [];
    for (let i = 0; i < count; i++) cursors.push(await target.publish({ topic, data: `${topic}#${i}`, ...extra }));
    return cursors;
  };
  const ids = (events: SseEvent[]) => dataEvents(events).map((event) => event.id);
  /** Waits until the stream has written its prelude (the server has registered it). */
  const opened = async (res: SseResponse) => {
    const deadline = Date.now() + 3_000;
    while (!res.text.includes('\n\n')) {
      if (Date.now() > deadline) throw new Error('no prelude within 3 s');
      await sleep(5);
    }
    return res;
  };

  describe(`ssemux server protocol: ${name}`, () => {
    afterEach(() => abortAll());

    describe('the response (§3)', () => {
      it('is 200 text/event-stream with no-cache, X-Accel-Buffering: no and Ssemux: 1', async () => {
        const res = await stream([fresh()]);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream(;|$)/);
        expect(res.headers.get('cache-control')).toMatch(/(^|[ ,])no-cache($|[ ,])/);
        expect(res.headers.get('x-accel-buffering')).toBe('no');
        expect(res.headers.get('ssemux')).toBe('1');
      });

      it('starts the body at once with the padded prelude comment and retry:', async () => {
        const res = await opened(await stream([fresh()]));
        const [comment, retry, blank] = res.text.split('\n');
        expect(comment).toMatch(/^: ssemux 1 +$/);
        expect(comment!.length).toBeGreaterThanOrEqual(': ssemux 1 '.length + 2048);
        expect(retry).toMatch(/^retry: \d+$/);
        expect(blank).toBe('');
        expect(res.events).toEqual([]);
      });

      it('names the end of the log in an id-only block when the request has no cursor, then goes live from there', async () => {
        const topic = fresh();
        const before = await target.publish({ topic, data: 'before' });
        const res = await opened(await stream([topic]));
        for (let i = 0; i < 500 && !/\nid: \S+\n\n/.test(res.text); i++) await sleep(10);
        const announced = /\nid: (\S+)\n\n/.exec(res.text)?.[1];
        expect(announced !== undefined && isCursor(announced)).toBe(true);
        expect(compareCursors(announced!, before)).toBeGreaterThanOrEqual(0);
        const after = await target.publish({ topic, data: 'after' });
        await res.until((e) => ids(e).includes(after));
        expect(ids(dataEvents(res.events))).toEqual([after]);
      });

      if (target.heartbeatMs !== undefined && target.heartbeatMs <= 5_000) {
        const interval = target.heartbeatMs;
        it('writes `: hb` heartbeats while nothing else is written', async () => {
          const res = await opened(await stream([fresh()]));
          const start = Date.now();
          await sleep(interval * 2.5);
          const beats = res.text.split('\n: hb\n\n').length - 1;
          expect(beats).toBeGreaterThanOrEqual(Math.floor((Date.now() - start) / interval) - 1);
          expect(beats).toBeGreaterThanOrEqual(1);
        });
      }
    });

    describe('events of a topic connection (§1, §3)', () => {
      it('carry id: <cursor>, event: unless message, the topic as the first data line, one data: line per line', async () => {
        const topic = fresh();
        const res = await opened(await stream([topic]));
        const cursors = [
          await target.publish({ topic, data: 'plain' }),
          await target.publish({ topic, type: 'greet', data: 'line 1\nline 2' }),
          await target.publish({ topic, type: 'crlf', data: 'a\r\nb\rc' }),
          await target.publish({ topic, type: 'empty', data: '' }),
        ];
        for (const cursor of cursors) expect(isCursor(cursor)).toBe(true);
        for (let i = 1; i < cursors.length; i++) expect(compareCursors(cursors[i - 1]!, cursors[i]!)).toBeLessThan(0);
        const events = dataEvents(await res.until((e) => dataEvents(e).length >= 4));
        expect(events.map((event) => event.id)).toEqual(cursors);
        expect(events.map((event) => event.type)).toEqual(['message', 'greet', 'crlf', 'empty']);
        expect(events.map(splitTopic)).toEqual([
          { topic, data: 'plain' },
          { topic, data: 'line 1\nline 2' },
          { topic, data: 'a\nb\nc' },
          { topic, data: '' },
        ]);
        expect(res.text).toContain(`id: ${cursors[0]}\ndata: ${topic}\ndata: plain\n\n`);
        expect(res.text).not.toMatch(/^event: message$/m);
      });

      it('carries every selected topic (repeats ignored) and no other', async () => {
        const [a, b, other] = [fresh('a'), fresh('b'), fresh('other')];
        const res = await opened(await stream([a, b, a]));
        const sent = [
          await target.publish({ topic: a, data: '1' }),
          await target.publish({ topic: other, data: 'x' }),
          await target.publish({ topic: b, data: '2' }),
          await target.publish({ topic: a, data: '3' }),
        ];
        await res.until((e) => dataEvents(e).length >= 3);
        await sleep(50);
        expect(ids(res.events)).toEqual([sent[0], sent[2], sent[3]]);
        expect(dataEvents(res.events).map((event) => splitTopic(event).topic)).toEqual([a, b, a]);
      });

      it('takes the topics of a POST body, with transport and lastEventId still from the query', async () => {
        const [a, b] = [fresh('a'), fresh('b')];
        const sent = [await target.publish({ topic: a, data: '1' }), await target.publish({ topic: b, data: '2' })];
        const from = await target.publish({ topic: a, data: 'before' });
        const after = [await target.publish({ topic: b, data: '3' }), await target.publish({ topic: a, data: '4' })];
        const res = await openSse(`${eventsUrl}?transport=long-poll&lastEventId=${encodeURIComponent(from)}`, {
          method: 'POST',
          headers: { ...headers(), 'Content-Type': 'application/json' },
          body: JSON.stringify({ topics: [a, b] }),
        });
        expect(res.status).toBe(200);
        expect(await res.settled()).toBe('ended');
        expect(ids(res.events)).toEqual(after);
        expect(sent).toHaveLength(2);
      });

      it('answers 400 to a topic name that is not well-formed Unicode (a lone surrogate)', async () => {
        for (const topics of [['room/\uD800'], ['room/\uDC00'], [fresh(), 'half \uD83C']]) {
          // JSON.stringify escapes lone surrogates as \uD800: the body carries them as they are.
          const res = await fetch(eventsUrl, { method: 'POST', headers: { ...headers(), 'Content-Type': 'application/json' }, body: JSON.stringify({ topics }) });
          expect(res.status, JSON.stringify(topics)).toBe(400);
          await res.body?.cancel();
        }
        const whole = await openSse(eventsUrl, { method: 'POST', headers: { ...headers(), 'Content-Type': 'application/json' }, body: JSON.stringify({ topics: ['room/\u{1F600}'] }) });
        expect(whole.status).toBe(200);
      });

      it('answers 400 to a malformed topic name, in the query or the body', async () => {
        for (const bad of ['', 'x'.repeat(257), 'tab\there', 'nul\u0000', 'del\u007f']) {
          const res = await fetch(query([bad]), { headers: headers() });
          expect(res.status, JSON.stringify(bad)).toBe(400);
          await res.body?.cancel();
        }
        for (const body of [{ topics: 'main' }, { topics: [fresh(), 42] }, { topics: [''] }]) {
          const res = await fetch(eventsUrl, { method: 'POST', headers: { ...headers(), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
          expect(res.status, JSON.stringify(body)).toBe(400);
          await res.body?.cancel();
        }
        const longest = await stream(['x'.repeat(256)]);
        expect(longest.status).toBe(200);
      });
    });

    if (target.defaultTopic !== undefined) {
      const defaultTopic = target.defaultTopic;
      it('plain connection (§2): the default topics, data without a topic line', async () => {
        const res = await opened(await openSse(eventsUrl, { headers: headers() }));
        const other = await target.publish({ topic: fresh(), data: 'elsewhere' });
        const mine = await target.publish({ topic: defaultTopic, type: 'conformance-plain', data: 'just data' });
        const events = await res.until((e) => e.some((event) => event.id === mine));
        const found = events.find((event) => event.id === mine)!;
        expect(found).toEqual({ type: 'conformance-plain', data: 'just data', id: mine });
        expect(events.some((event) => event.id === other)).toBe(false);
      });
    }

    describe('resuming (§4)', () => {
      it('replays after Last-Event-ID, oldest first, then goes live', async () => {
        const topic = fresh();
        const cursors = await publishAll(topic, 4);
        const res = await stream([topic], { cursor: cursors[1] });
        await res.until((e) => dataEvents(e).length >= 2);
        const live = await target.publish({ topic, data: 'live' });
        await res.until((e) => dataEvents(e).length >= 3);
        expect(ids(res.events)).toEqual([cursors[2], cursors[3], live]);
        expect(res.events.some((event) => event.type === 'ssemux:reset')).toBe(false);
      });

      it('takes lastEventId from the query when there is no header, and the header over it', async () => {
        const topic = fresh();
        const cursors = await publishAll(topic, 4);
        const byQuery = await openSse(query([topic], { lastEventId: cursors[0]! }), { headers: headers() });
        await byQuery.until((e) => dataEvents(e).length >= 3);
        expect(ids(byQuery.events)).toEqual(cursors.slice(1));
        const both = await openSse(query([topic], { lastEventId: cursors[0]! }), { headers: { ...headers(), 'Last-Event-ID': cursors[2]! } });
        await both.until((e) => dataEvents(e).length >= 1);
        await sleep(50);
        expect(ids(both.events)).toEqual([cursors[3]]);
      });

      it('resumes every topic of the connection with its one cursor', async () => {
        const [a, b, c] = [fresh('a'), fresh('b'), fresh('c')];
        const cursors: string[] = [];
        for (let i = 0; i < 9; i++) cursors.push(await target.publish({ topic: [a, b, c][i % 3]!, data: String(i) }));
        const res = await stream([a, c], { cursor: cursors[2] });
        await res.until((e) => dataEvents(e).length >= 4);
        await sleep(50);
        expect(ids(res.events)).toEqual([cursors[3], cursors[5], cursors[6], cursors[8]]);
      });

      it('has no gap and no repeat between replay and live while events are being published', async () => {
        const topic = fresh();
        const total = Math.min(300, Math.floor((target.retention ?? Infinity) / 2));
        const published: string[] = [];
        let listening = false;
        // Paced, so that publishing goes on while both streams open and replay.
        const publishing = (async () => {
          while (published.length < total || !listening) {
            published.push(await target.publish({ topic, data: String(published.length) }));
            await sleep(1);
          }
        })();
        while (published.length < 30) await sleep(1);
        const from = published[20]!;
        const [resumed, live] = await Promise.all([stream([topic], { cursor: from }), stream([topic])]);
        await Promise.all([opened(resumed), opened(live)]);
        listening = true;
        await publishing;
        const last = published.at(-1);
        await resumed.until((e) => ids(e).at(-1) === last, 10_000);
        await live.until((e) => ids(e).at(-1) === last, 10_000);
        expect(ids(resumed.events)).toEqual(published.slice(21));
        // Live only: from some event on, every event, once.
        const got = ids(live.events);
        expect(got).toEqual(published.slice(published.length - got.length));
      });

      it('answers a cursor it cannot know with ssemux:reset (unknown-cursor), then replays and goes live', async () => {
        const topic = fresh();
        const before = await publishAll(topic, 2);
        for (const cursor of [FUTURE_CURSOR, 'not a cursor']) {
          const res = await stream([topic], { cursor });
          await res.until((e) => ids(e).includes(before[1]!));
          const [reset] = res.events;
          expect(reset!.type).toBe('ssemux:reset');
          expect(JSON.parse(reset!.data)).toEqual({ from: cursor, reason: 'unknown-cursor' });
          expect(isCursor(reset!.id)).toBe(true);
          expect(compareCursors(reset!.id, before[0]!)).toBeLessThan(0);
          const replayed = ids(res.events);
          expect(replayed.slice(-2)).toEqual(before);
          expect(new Set(replayed).size).toBe(replayed.length);
        }
      });

      it('answers a cursor of the right shape that no log can hold (past 64 bits) with ssemux:reset, then goes live', async () => {
        const topic = fresh();
        const [before] = await publishAll(topic, 1);
        for (const cursor of ['18446744073709551616-0', '18446744073709551615-18446744073709551616', `${'9'.repeat(30)}-0`]) {
          for (const transport of ['stream', 'long-poll']) {
            const res = await stream([topic], { cursor, extra: transport === 'long-poll' ? { transport } : {} });
            expect(res.status).toBe(200);
            await res.until((e) => ids(e).includes(before!));
            expect(res.events[0]!.type, `${cursor} over ${transport}`).toBe('ssemux:reset');
            expect(JSON.parse(res.events[0]!.data)).toEqual({ from: cursor, reason: 'unknown-cursor' });
            if (transport === 'stream') {
              const live = await target.publish({ topic, data: 'live' });
              await res.until((e) => ids(e).includes(live));
              expect(res.state).toBe('open');
            }
            res.abort();
          }
        }
      });

      if (target.retention !== undefined && target.retention <= 2_000) {
        const retention = target.retention;
        it('answers a cursor older than the log keeps with ssemux:reset (retention), then what it kept', async () => {
          const topic = fresh();
          const [first] = await publishAll(topic, 1);
          // The event right after `first` must go, not only `first`.
          const cursors = await publishAll(topic, retention + 1);
          const res = await stream([topic], { cursor: first });
          await res.until((e) => ids(e).at(-1) === cursors.at(-1), 10_000);
          const [reset] = res.events;
          expect(reset!.type).toBe('ssemux:reset');
          expect(JSON.parse(reset!.data)).toEqual({ from: first, reason: 'retention' });
          const replayed = ids(res.events);
          expect(replayed.length).toBeLessThanOrEqual(retention);
          expect(replayed).toEqual(cursors.slice(cursors.length - replayed.length));
          expect(replayed).not.toContain(cursors[0]);
          expect(compareCursors(reset!.id, replayed[0]!)).toBeLessThan(0);
          expect(compareCursors(reset!.id, first!)).toBeGreaterThan(0);
        });
      }
    });

    if (target.headersFor) {
      describe('identity and visibility (§5)', () => {
        if (target.requiresAuth) {
          it('answers 401 with WWW-Authenticate to a request without credentials', async () => {
            const res = await fetch(query([fresh()]));
            expect(res.status).toBe(401);
            expect(res.headers.get('www-authenticate')).toBeTruthy();
            await res.body?.cancel();
          });
        }

        it('shows an event published for a user to that user only, in replay and live', async () => {
          const topic = fresh();
          const from = await target.publish({ topic, data: 'start' });
          const forAlice = await target.publish({ topic, data: 'a', user: 'alice' });
          const forBob = await target.publish({ topic, data: 'b', user: 'bob' });
          const forAll = await target.publish({ topic, data: 'all' });
          const alice = await stream([topic], { cursor: from, user: 'alice' });
          const bob = await stream([topic], { cursor: from, user: 'bob' });
          await alice.until((e) => dataEvents(e).length >= 2);
          await bob.until((e) => dataEvents(e).length >= 2);
          const liveBob = await target.publish({ topic, data: 'lb', user: 'bob' });
          const liveAlice = await target.publish({ topic, data: 'la', user: 'alice' });
          await alice.until((e) => dataEvents(e).length >= 3);
          await bob.until((e) => dataEvents(e).length >= 3);
          await sleep(50);
          expect(ids(alice.events)).toEqual([forAlice, forAll, liveAlice]);
          expect(ids(bob.events)).toEqual([forBob, forAll, liveBob]);
        });
      });
    }

    if (target.deniedTopic !== undefined) {
      const denied = target.deniedTopic;
      describe('topic authorization (§3, §7)', () => {
        it('names denied topics in ssemux:denied and carries the others', async () => {
          const topic = fresh();
          const res = await stream([topic, denied]);
          const [notice] = await res.until((e) => e.length >= 1);
          expect(notice!.type).toBe('ssemux:denied');
          expect(JSON.parse(notice!.data)).toEqual([denied]);
          await target.publish({ topic: denied, data: 'secret' });
          const mine = await target.publish({ topic, data: 'ok' });
          await res.until((e) => dataEvents(e).length >= 1);
          await sleep(50);
          expect(ids(res.events)).toEqual([mine]);
        });

        it('writes the prelude, the id-only block of a request without cursor, then ssemux:denied, on a stream and a long-poll alike', async () => {
          const topic = fresh();
          for (const extra of [{}, { transport: 'long-poll' }] as Record<string, string>[]) {
            const res = await stream([topic, denied], { extra });
            await res.until((e) => e.length >= 1);
            const blocks = res.text.split('\n\n');
            expect(blocks[0], JSON.stringify(extra)).toMatch(/^: ssemux 1 +\nretry: \d+$/);
            expect(blocks[1]).toMatch(/^id: \S+$/);
            expect(blocks[2]).toBe(`event: ssemux:denied\ndata: ${JSON.stringify([denied])}`);
            res.abort();
          }
        });

        it('answers 204 when every selected topic is denied', async () => {
          const res = await fetch(query([denied]), { headers: headers() });
          expect(res.status).toBe(204);
          await res.body?.cancel();
        });
      });
    }

    if (target.presence && target.headersFor) {
      const { graceMs, maxMembers } = target.presence;
      const presenceOf = (events: SseEvent[]) =>
        events.filter((event) => event.type === 'ssemux:presence').map((event) => {
          const { topic, data } = splitTopic(event);
          return { topic, ...(JSON.parse(data) as PresenceData) };
        });
      const lastOf = (res: SseResponse, topic: string) => presenceOf(res.events).filter((p) => p.topic === topic).at(-1);
      const watch = async (selected: string[], user: string, init: { cursor?: string; extra?: Record<string, string> } = {}) => {
        const res = await stream(selected, { user, cursor: init.cursor, extra: { presence: '1', ...init.extra } });
        await res.until((events) => presenceOf(events).length >= selected.length, 5_000);
        return res;
      };

      describe('presence (§9)', () => {
        it('writes ssemux:presence of each topic, without id:, after ssemux:denied and the replay, before live events', async () => {
          const [topic, other] = [fresh('room'), fresh('hall')];
          const from = await target.publish({ topic, data: 'before' });
          const replayed = await target.publish({ topic, data: 'replayed' });
          const selected = target.deniedTopic !== undefined ? [topic, other, target.deniedTopic] : [topic, other];
          const res = await stream(selected, { user: 'alice', cursor: from, extra: { presence: '1' } });
          await res.until((events) => presenceOf(events).length === 2, 5_000);
          const live = await target.publish({ topic, data: 'live' });
          await res.until((events) => ids(events).includes(live));
          const kinds = res.events.map((event) => (event.type === 'ssemux:presence' ? `presence ${splitTopic(event).topic}` : event.type));
          expect(kinds).toEqual([...(target.deniedTopic !== undefined ? ['ssemux:denied'] : []), 'message', `presence ${topic}`, `presence ${other}`, 'message']);
          expect(ids(res.events)).toEqual([replayed, live]);
          expect(presenceOf(res.events)).toEqual([
            { topic, members: [{ user: 'alice', browsers: 1 }], anonymous: 0 },
            { topic: other, members: [{ user: 'alice', browsers: 1 }], anonymous: 0 },
          ]);
          // No id: line, so the client's position stays that of the replayed event.
          expect(res.text).toContain(`\n\nevent: ssemux:presence\ndata: ${topic}\ndata: {"members":[{"user":"alice","browsers":1}],"anonymous":0}\n\n`);
          expect(res.events.find((event) => event.type === 'ssemux:presence')!.id).toBe(replayed);
        });

        it('tells a change: another identity comes (at once), another browser of it, and it leaves after the grace', async () => {
          const topic = fresh('room');
          const alice = await watch([topic], 'alice');
          const bob = await stream([topic], { user: 'bob' });
          await alice.until(() => lastOf(alice, topic)?.change?.user === 'bob');
          expect(lastOf(alice, topic)).toEqual({ topic, members: [{ user: 'alice', browsers: 1 }, { user: 'bob', browsers: 1 }], anonymous: 0, change: { user: 'bob', browsers: 1 } });
          const again = await stream([topic], { user: 'bob' });
          await alice.until(() => lastOf(alice, topic)?.change?.browsers === 2);
          expect(lastOf(alice, topic)!.members).toEqual([{ user: 'alice', browsers: 1 }, { user: 'bob', browsers: 2 }]);
          const left = Date.now();
          bob.abort();
          again.abort();
          await alice.until(() => lastOf(alice, topic)?.change?.browsers === 0, graceMs + 5_000);
          expect(Date.now() - left).toBeGreaterThanOrEqual(graceMs * 0.9);
          expect(lastOf(alice, topic)).toEqual({ topic, members: [{ user: 'alice', browsers: 1 }], anonymous: 0, change: { user: 'bob', browsers: 0 } });
        });

        if (graceMs >= 200 && graceMs <= 2_000) {
          it('does not tell a leave for a connection that comes back within the grace', async () => {
            const topic = fresh('room');
            const alice = await watch([topic], 'alice');
            const bob = await stream([topic], { user: 'bob' });
            await alice.until(() => lastOf(alice, topic)?.change?.user === 'bob');
            const seen = presenceOf(alice.events).length;
            bob.abort();
            await sleep(graceMs / 4);
            await opened(await stream([topic], { user: 'bob' }));
            await sleep(graceMs + 500);
            expect(presenceOf(alice.events).slice(seen)).toEqual([]);
          });
        }

        it('ends a long-poll answer with the presence of each topic, after its events', async () => {
          const [topic, other] = [fresh('room'), fresh('hall')];
          const from = await target.publish({ topic, data: 'before' });
          const sent = await publishAll(topic, 2);
          const res = await stream([topic, other], { user: 'alice', cursor: from, extra: { presence: '1', transport: 'long-poll' } });
          expect(await res.settled(10_000)).toBe('ended');
          expect(res.events.map((event) => event.type)).toEqual(['message', 'message', 'ssemux:presence', 'ssemux:presence']);
          expect(ids(res.events)).toEqual(sent);
          expect(presenceOf(res.events)).toEqual([
            { topic, members: [{ user: 'alice', browsers: 1 }], anonymous: 0 },
            { topic: other, members: [{ user: 'alice', browsers: 1 }], anonymous: 0 },
          ]);
        });

        it('writes no presence to a connection that did not ask', async () => {
          const topic = fresh('room');
          const quiet = await opened(await stream([topic], { user: 'carl' }));
          await watch([topic], 'alice');
          const sent = await target.publish({ topic, data: 'x' });
          await quiet.until((events) => ids(events).includes(sent));
          await sleep(200);
          expect(quiet.events.map((event) => event.type)).toEqual(['message']);
        });

        if (maxMembers !== undefined && maxMembers <= 20) {
          it('lists at most the server\'s number of members, sorted by user, and says it truncated', async () => {
            const topic = fresh('room');
            const users = Array.from({ length: maxMembers + 1 }, (_, i) => `user-${String.fromCharCode(122 - i)}`);
            for (const user of users) await opened(await stream([topic], { user }));
            const watcher = await stream([topic], { user: 'user-0', extra: { presence: '1' } });
            await watcher.until((events) => presenceOf(events).length >= 1);
            const sorted = ['user-0', ...users].sort();
            expect(presenceOf(watcher.events)[0]).toEqual({
              topic,
              members: sorted.slice(0, maxMembers).map((user) => ({ user, browsers: 1 })),
              anonymous: 0,
              truncated: true,
            });
          });
        }
      });
    }

    describe('long-poll (§6)', () => {
      it('answers with the events after the cursor at once, with the stream headers and prelude, and ends', async () => {
        const topic = fresh();
        const cursors = await publishAll(topic, 3);
        const started = Date.now();
        const res = await poll([topic], { cursor: cursors[0] });
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream(;|$)/);
        expect(res.headers.get('ssemux')).toBe('1');
        expect(res.text).toMatch(/^: ssemux 1 +\nretry: \d+\n\n/);
        expect(ids(res.events)).toEqual(cursors.slice(1));
      });

      it('holds a poll with nothing to answer until events arrive, then answers them in one batch', async () => {
        const topic = fresh();
        const [from] = await publishAll(topic, 1);
        const pending = stream([topic], { cursor: from, extra: { transport: 'long-poll' } });
        const res = await opened(await pending);
        await sleep(100);
        expect(res.state).toBe('open');
        const sent = await Promise.all([target.publish({ topic, data: 'x' }), target.publish({ topic, data: 'y' })]);
        expect(await res.settled()).toBe('ended');
        expect(ids(res.events)).toEqual([...sent].sort(compareCursors));
      });

      it('names the head of the log in an id-only block when the poll has no cursor', async () => {
        const topic = fresh();
        const head = await target.publish({ topic: fresh('elsewhere'), data: 'latest' });
        const res = await opened(await stream([topic], { extra: { transport: 'long-poll' } }));
        const next = await target.publish({ topic, data: 'next' });
        expect(await res.settled()).toBe('ended');
        expect(res.text).toMatch(/\nid: (\S+)\n\n/);
        const announced = /\nid: (\S+)\n\n/.exec(res.text)![1]!;
        expect(isCursor(announced)).toBe(true);
        expect(compareCursors(announced, head)).toBeGreaterThanOrEqual(0);
        expect(compareCursors(announced, next)).toBeLessThan(0);
        expect(ids(res.events)).toEqual([next]);
      });

      if (target.longPollMs !== undefined && target.longPollMs <= 5_000) {
        const holdMs = target.longPollMs;
        it('ends a held poll without events after about the hold time', async () => {
          const topic = fresh();
          const [from] = await publishAll(topic, 1);
          const started = Date.now();
          const res = await poll([topic], { cursor: from });
          const waited = Date.now() - started;
          expect(waited).toBeGreaterThanOrEqual(holdMs * 0.9);
          expect(waited).toBeLessThan(holdMs + 2_000);
          expect(res.events).toEqual([]);
        });
      }
    });
  });
}
