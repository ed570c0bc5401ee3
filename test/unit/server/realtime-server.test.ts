// createRealtimeServer over real HTTP: the API around the protocol (publish, stats, disconnect,
// close, options) and how it mounts. The protocol rules themselves are in test/conformance.
import express from 'express';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import type { EventStore } from 'ssemux/server';
import { AuthenticationError, createRealtimeServer, memoryStore, redisStore, SERVER_DEFAULTS } from 'ssemux/server';
import { dataEvents, openSse, sleep, splitTopic } from '../../conformance/sse-client.js';
import { eventually, listen, onCleanup, startRealtime } from './helpers.js';

const json = { 'Content-Type': 'application/json' };

describe('options', () => {
  it('rejects a wrong option with a TypeError that names it', () => {
    expect(() => createRealtimeServer({ heartbeatMs: 0 })).toThrow(/heartbeatMs/);
    expect(() => createRealtimeServer({ retryMs: -1 })).toThrow(/retryMs/);
    expect(() => createRealtimeServer({ defaultTopic: '' })).toThrow(/defaultTopic/);
    expect(() => createRealtimeServer({ longPoll: 'yes' as never })).toThrow(/longPoll/);
    expect(() => createRealtimeServer({ authorize: 5 as never })).toThrow(/authorize/);
    expect(() => createRealtimeServer({ heartbeatMs: 0 })).toThrow(TypeError);
  });

  it('refuses an option it does not know (a misspelt authorise would allow every topic)', async () => {
    expect(() => createRealtimeServer({ authorise: () => false } as never)).toThrow(/unknown option authorise/);
    expect(() => createRealtimeServer({ heartbeatMS: 1000 } as never)).toThrow(TypeError);
    await createRealtimeServer({ store: undefined, authenticate: undefined, presence: false }).close();
  });

  it('refuses a wait longer than a timer holds (2^31 - 1 ms), which would fire at once', async () => {
    for (const name of ['heartbeatMs', 'longPollMs', 'writeTimeoutMs', 'publishTimeoutMs', 'controlTimeoutMs', 'storeRetryMs', 'retryMs', 'longPollBatchMs', 'presenceGraceMs', 'presenceBatchMs']) {
      expect(() => createRealtimeServer({ [name]: 2 ** 31 }), name).toThrow(new RegExp(`${name} must be at most 2147483647`));
      await createRealtimeServer({ [name]: 2 ** 31 - 1 }).close();
    }
    expect(() => redisStore({ blockMs: 2 ** 31 })).toThrow(/blockMs must be at most 2147483647/);
    expect(() => redisStore({ commandTimeoutMs: 2 ** 32 })).toThrow(/commandTimeoutMs must be at most/);
  });

  it('with publishTimeoutMs at the longest a timer holds, waits for a store that confirms after 50 ms', async () => {
    const inner = memoryStore();
    const slow: EventStore = { ...inner, append: async (event) => (await sleep(50), inner.append(event)) };
    const realtime = createRealtimeServer({ store: slow, publishTimeoutMs: 2 ** 31 - 1 });
    onCleanup(() => realtime.close());
    await expect(realtime.publish({ data: 'x' })).resolves.toMatch(/^\d+-1$/);
  });

  it('applies the documented defaults: 2048 spaces of prelude padding, retry 1000', async () => {
    const { url } = await startRealtime({ heartbeatMs: undefined });
    const res = await openSse(url);
    await eventually(() => res.text, (text) => expect(text).toContain('id: '));
    // The prelude, then (no resume cursor) an id-only block naming the end of the log.
    expect(res.text).toMatch(new RegExp(`^: ssemux 1 ${' '.repeat(SERVER_DEFAULTS.preludePadding)}\nretry: ${SERVER_DEFAULTS.retryMs}\n\nid: \\d+-0\n\n$`));
    expect(SERVER_DEFAULTS).toMatchObject({ preludePadding: 2048, retryMs: 1000, heartbeatMs: 15_000, longPollMs: 25_000, defaultTopic: 'main' });
  });

  it('takes preludePadding and retryMs', async () => {
    const { url } = await startRealtime({ preludePadding: 0, retryMs: 250 });
    const res = await openSse(url);
    await eventually(() => res.text, (text) => expect(text).toMatch(/^: ssemux 1 \nretry: 250\n\nid: \d+-0\n\n$/));
  });
});

describe('publish()', () => {
  it('resolves with the cursor; JSON-encodes data that is not a string; defaults topic and type', async () => {
    const { url, realtime } = await startRealtime({ defaultTopic: 'news' });
    const res = await openSse(`${url}?topic=news`);
    await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    const cursors = [
      await realtime.publish({ data: { a: 1 } }),
      await realtime.publish({ data: 'text' }),
      await realtime.publish({ type: 'nothing', data: undefined }),
      await realtime.publish({ data: [1, 'two'] }),
    ];
    const events = dataEvents(await res.until((e) => dataEvents(e).length === 4));
    expect(events.map((event) => event.id)).toEqual(cursors);
    expect(events.map(splitTopic)).toEqual([
      { topic: 'news', data: '{"a":1}' },
      { topic: 'news', data: 'text' },
      { topic: 'news', data: '' },
      { topic: 'news', data: '[1,"two"]' },
    ]);
    expect(events.map((event) => event.type)).toEqual(['message', 'message', 'nothing', 'message']);
    expect(realtime.stats().eventsPublished).toBe(4);
  });

  it('rejects a bad topic, a type with a line break or the reserved ssemux: prefix, an empty user', async () => {
    const { realtime } = await startRealtime();
    await expect(realtime.publish({ topic: '', data: 'x' })).rejects.toThrow(/topic/);
    await expect(realtime.publish({ topic: 'a\nb', data: 'x' })).rejects.toThrow(/topic/);
    await expect(realtime.publish({ type: 'a\rb', data: 'x' })).rejects.toThrow(/type/);
    await expect(realtime.publish({ type: 'ssemux:reset', data: 'x' })).rejects.toThrow(/type/);
    await expect(realtime.publish({ type: '', data: 'x' })).rejects.toThrow(/type/);
    await expect(realtime.publish({ user: '', data: 'x' })).rejects.toThrow(/user/);
    expect(realtime.stats().eventsPublished).toBe(0);
  });

  it('rejects a null topic or type (a lookup that found nothing) rather than publishing to everyone on the default topic', async () => {
    const { url, realtime } = await startRealtime();
    const res = await openSse(url);
    await eventually(() => res.text, (text) => expect(text).toContain('id: '));
    await expect(realtime.publish({ topic: null as never, data: 'private' })).rejects.toThrow(TypeError);
    await expect(realtime.publish({ type: null as never, data: 'private' })).rejects.toThrow(TypeError);
    // The next event is the first the stream gets: nothing was published before it.
    const next = await realtime.publish({ data: 'public' });
    const events = dataEvents(await res.until((e) => dataEvents(e).length >= 1));
    expect(events.map((e) => [e.id, e.data])).toEqual([[next, 'public']]);
    expect(realtime.stats().eventsPublished).toBe(1);
  });

  it('rejects a topic with a lone surrogate, which no client could ask for (its URL carries U+FFFD)', async () => {
    const { realtime } = await startRealtime();
    await expect(realtime.publish({ topic: '😀room'.slice(1), data: 'x' })).rejects.toThrow(/topic/);
    await expect(realtime.publish({ topic: 'room😀', data: 'x' })).resolves.toMatch(/-1$/);
  });
});

describe('mounting', () => {
  it('works in Express 5 for GET and POST, with the body parsed by express.json() or not', async () => {
    const realtime = createRealtimeServer({ onError: () => {} });
    onCleanup(() => realtime.close());
    const app = express();
    app.get('/events', realtime.handler);
    app.post('/events', express.json(), realtime.handler);
    app.post('/raw-events', realtime.handler);
    const { url } = await listen(app);

    const parsed = await openSse(`${url}/events`, { method: 'POST', headers: json, body: JSON.stringify({ topics: ['a'] }) });
    const raw = await openSse(`${url}/raw-events`, { method: 'POST', headers: json, body: JSON.stringify({ topics: ['a'] }) });
    const get = await openSse(`${url}/events?topic=a`);
    for (const res of [parsed, raw, get]) await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    expect(realtime.stats().perTopic).toEqual({ a: 3 });
    const cursor = await realtime.publish({ topic: 'a', data: 'hi' });
    for (const res of [parsed, raw, get]) {
      const [event] = await res.until((e) => e.length === 1);
      expect(event).toEqual({ type: 'message', data: 'a\nhi', id: cursor });
    }
  });

  it('works inside a plain node:http server next to other routes', async () => {
    const realtime = createRealtimeServer({ onError: () => {} });
    onCleanup(() => realtime.close());
    const { url } = await listen((req, res) => {
      if (req.url?.startsWith('/events')) return void realtime.handler(req, res);
      res.writeHead(404).end();
    });
    expect((await fetch(`${url}/other`)).status).toBe(404);
    const res = await openSse(`${url}/events?topic=x`);
    expect(res.status).toBe(200);
  });

  it('sends the headers before any event exists', async () => {
    const { url } = await startRealtime();
    const started = Date.now();
    const res = await openSse(url);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('ignores a body that is not JSON (a plain connection), and answers 400 to malformed JSON, 413 to a body too large, 405 to other methods', async () => {
    const { url, realtime } = await startRealtime({ maxBodyBytes: 100 });
    const text = await openSse(url, { method: 'POST', body: '{"topics":["a"]}' });
    expect(text.status).toBe(200);
    expect(realtime.stats().perTopic).toEqual({ main: 1 });
    const malformed = await fetch(url, { method: 'POST', headers: json, body: '{"topics": [' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'body is not valid JSON' });
    const large = await fetch(url, { method: 'POST', headers: json, body: JSON.stringify({ topics: ['x'.repeat(200)] }) });
    expect(large.status).toBe(413);
    await large.body?.cancel();
    const put = await fetch(url, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    await put.body?.cancel();
  });

  it('answers 400 to more topics than maxTopics', async () => {
    const { url } = await startRealtime({ maxTopics: 2 });
    const res = await fetch(`${url}?topic=a&topic=b&topic=c`);
    expect(res.status).toBe(400);
    await res.body?.cancel();
    expect((await openSse(`${url}?topic=a&topic=b&topic=a`)).status).toBe(200);
  });
});

describe('requests at their edges', () => {
  it('a topic that is not UTF-8 in the query (a lone surrogate, %ED%A0%80) is a 400, not served as another topic', async () => {
    const { url } = await startRealtime();
    for (const topic of ['room%2F%ED%A0%80', 'room%2F%ED%B0%80', '%ZZ']) {
      const res = await fetch(`${url}?topic=${topic}`);
      await res.body?.cancel();
      expect(res.status, topic).toBe(400);
    }
    const ok = await openSse(`${url}?topic=room%2F%F0%9F%98%80&topic=a+b&x=%ZZ`);
    await eventually(() => ok.text, (text) => expect(text).toContain('retry:'));
  });

  it('a POST naming 150,000 topics (under maxBodyBytes): duplicates are one, past maxTopics a 400, never a 503', async () => {
    const errors: unknown[] = [];
    const { url } = await startRealtime({ onError: (error) => errors.push(error) });
    const post = (topics: string[]) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ topics }) });
    const same = await post(new Array(150_000).fill('a'));
    expect(same.status).toBe(200);
    await same.body?.cancel();
    const distinct = await post(Array.from({ length: 140_000 }, (_, i) => i.toString(36)));
    expect(distinct.status).toBe(400);
    expect(await distinct.text()).toMatch(/more than 1000 topics/);
    expect(errors).toEqual([]);
  });

  it('Last-Event-ID is read as the UTF-8 its bytes are, as the lastEventId parameter is', async () => {
    const { url } = await startRealtime();
    const resetFrom = async (target: string, init?: RequestInit) => {
      const res = await openSse(target, init);
      const events = await res.until((seen) => seen.some((e) => e.type === 'ssemux:reset'));
      return (JSON.parse(events.find((e) => e.type === 'ssemux:reset')!.data) as { from: string }).from;
    };
    const id = 'café-1';
    // A header is bytes: the id's UTF-8, one character a byte, as a browser sends it.
    const bytes = String.fromCharCode(...new TextEncoder().encode(id));
    expect(await resetFrom(`${url}?topic=a&lastEventId=${encodeURIComponent(id)}`)).toBe(id);
    expect(await resetFrom(`${url}?topic=a`, { headers: { 'Last-Event-ID': bytes } })).toBe(id);
  });

  it('defaultTopics returning a string (not an array of names) is a 500, reported, not one topic per character', async () => {
    const errors: unknown[] = [];
    const { url, realtime } = await startRealtime({ onError: (error) => errors.push(error), defaultTopics: (() => 'main') as never });
    const res = await fetch(url);
    await res.body?.cancel();
    expect(res.status).toBe(500);
    expect(errors.map(String)).toEqual([expect.stringMatching(/defaultTopics must return topic names/)]);
    expect(realtime.stats().perTopic).toEqual({});
  });
});

describe('identity', () => {
  it('answers 401 with the challenge when authenticate gives null, and passes the identity on', async () => {
    const seen: unknown[] = [];
    const { url, realtime } = await startRealtime<{ user: string; role: string }>({
      challenge: 'Bearer realm="test"',
      authenticate: async (req) => (req.headers.authorization === 'Bearer t1' ? { user: 'ann', role: 'admin' } : null),
      authorize: async (identity, topic) => {
        seen.push([identity, topic]);
        return true;
      },
    });
    const denied = await fetch(`${url}?topic=x`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="test"');
    await denied.body?.cancel();
    const ok = await openSse(`${url}?topic=x&topic=y`, { headers: { Authorization: 'Bearer t1' } });
    expect(ok.status).toBe(200);
    expect(seen).toEqual([
      [{ user: 'ann', role: 'admin' }, 'x'],
      [{ user: 'ann', role: 'admin' }, 'y'],
    ]);
    expect(realtime.stats().connections).toBe(1);
  });

  it('answers 500 when authenticate throws, and reports the error; 401 with the challenge when it throws AuthenticationError', async () => {
    const errors: unknown[] = [];
    const { url } = await startRealtime({
      authenticate: (req) => {
        if (req.headers.authorization === 'expired') throw new AuthenticationError('token expired');
        throw new Error('session store down');
      },
      onError: (error) => errors.push(error),
    });
    const res = await fetch(url);
    expect(res.status).toBe(500);
    expect(res.headers.get('retry-after')).toBeNull();
    await res.body?.cancel();
    expect(String(errors[0])).toContain('session store down');
    const expired = await fetch(url, { headers: { Authorization: 'expired' } });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer');
    await expired.body?.cancel();
    expect(errors).toHaveLength(1);
  });

  it('sees events published for a user only when authenticated as that user; anonymous sees public ones', async () => {
    const { url, realtime } = await startRealtime({ authenticate: (req) => (req.headers.authorization ? 'ann' : { }) });
    const ann = await openSse(`${url}?topic=t`, { headers: { Authorization: 'x' } });
    const anonymous = await openSse(`${url}?topic=t`);
    for (const res of [ann, anonymous]) await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    const mine = await realtime.publish({ topic: 't', data: '1', user: 'ann' });
    const all = await realtime.publish({ topic: 't', data: '2' });
    await ann.until((e) => e.length === 2);
    await anonymous.until((e) => e.length === 1);
    expect(ann.events.map((e) => e.id)).toEqual([mine, all]);
    expect(anonymous.events.map((e) => e.id)).toEqual([all]);
  });

  it('a numeric user (a database key) is its decimal text: it gets the events published for it', async () => {
    const { url, realtime } = await startRealtime({ authenticate: (req) => (req.headers.authorization === 'object' ? { user: 7 } : 42) });
    const byNumber = await openSse(`${url}?topic=t`, { headers: { Authorization: 'number' } });
    const byObject = await openSse(`${url}?topic=t`, { headers: { Authorization: 'object' } });
    for (const res of [byNumber, byObject]) await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    const for42 = await realtime.publish({ topic: 't', data: 'a', user: '42' });
    const for7 = await realtime.publish({ topic: 't', data: 'b', user: '7' });
    await byNumber.until((e) => e.length === 1);
    await byObject.until((e) => e.length === 1);
    expect(byNumber.events.map((e) => e.id)).toEqual([for42]);
    expect(byObject.events.map((e) => e.id)).toEqual([for7]);
  });

  it('a user that could match no event (an object, a lone surrogate) is reported and answered 500, not served as anonymous', async () => {
    const errors: unknown[] = [];
    const { url } = await startRealtime({
      authenticate: (req) => (req.headers.authorization === 'object' ? { user: { id: 1 } as never } : 'ann\uD800'),
      onError: (error) => errors.push(error),
    });
    for (const who of ['object', 'surrogate']) {
      const res = await fetch(`${url}?topic=t`, { headers: { Authorization: who } });
      expect(res.status).toBe(500);
      await res.body?.cancel();
    }
    expect(errors.map(String)).toEqual([expect.stringMatching(/user must be a well-formed string or a number, got object/), expect.stringMatching(/got "ann\\ud800"/)]);
  });
});

describe('plain connections', () => {
  it('carry defaultTopics(req), and a plain connection whose every topic is denied gets 204', async () => {
    const { url, realtime } = await startRealtime({
      defaultTopics: (req) => [`room/${new URL(req.url!, 'http://x').searchParams.get('room') ?? 'lobby'}`],
      authorize: (_identity, topic) => topic !== 'room/secret',
    });
    const res = await openSse(`${url}?room=blue`);
    await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    expect(realtime.stats().perTopic).toEqual({ 'room/blue': 1 });
    await realtime.publish({ topic: 'room/lobby', data: 'no' });
    const cursor = await realtime.publish({ topic: 'room/blue', data: 'yes' });
    await res.until((e) => e.length === 1);
    expect(res.events).toEqual([{ type: 'message', data: 'yes', id: cursor }]);
    const secret = await fetch(`${url}?room=secret`);
    expect(secret.status).toBe(204);
  });
});

describe('stats(), disconnect() and close()', () => {
  it('counts open streams and long-polls per topic, and events sent', async () => {
    const { url, realtime } = await startRealtime();
    expect(realtime.stats()).toEqual({ openStreams: 0, openSse: 0, openLongPoll: 0, perTopic: {}, connections: 0, eventsSent: 0, eventsPublished: 0 });
    const a = await openSse(`${url}?topic=a&topic=b`);
    const b = await openSse(`${url}?topic=b`);
    const poll = await openSse(`${url}?topic=a&transport=long-poll`);
    await eventually(() => realtime.stats(), (stats) => expect(stats).toMatchObject({ openStreams: 3, openSse: 2, openLongPoll: 1, perTopic: { a: 2, b: 2 }, connections: 3 }));
    await realtime.publish({ topic: 'a', data: 'x' });
    await a.until((e) => e.length === 1);
    expect(await poll.settled()).toBe('ended');
    expect(realtime.stats().eventsSent).toBe(2);
    a.abort();
    b.abort();
    await eventually(() => realtime.stats(), (stats) => expect(stats).toMatchObject({ openStreams: 0, perTopic: {} }));
  });

  it('counts topics named like Object.prototype members as any other (perTopic)', async () => {
    const { url, realtime } = await startRealtime();
    await openSse(`${url}?topic=__proto__&topic=constructor`);
    await eventually(() => realtime.stats().openStreams, (n) => expect(n).toBe(1));
    const { perTopic } = realtime.stats();
    expect(Object.keys(perTopic).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(perTopic, '__proto__')?.value).toBe(1);
    expect(JSON.parse(JSON.stringify(realtime.stats())).perTopic).toEqual(JSON.parse('{"__proto__":1,"constructor":1}'));
  });

  it('disconnect() ends the matching streams cleanly: by user, by topic, by predicate over the identity', async () => {
    type Who = { user: string; token: string };
    const { url, realtime } = await startRealtime<Who>({
      authenticate: (req) => {
        const [user, token] = (req.headers.authorization ?? '').split(':');
        return user && token ? { user, token } : null;
      },
    });
    const open = (who: string, topic: string, extra = '') => openSse(`${url}?topic=${topic}${extra}`, { headers: { Authorization: who } });
    const ann1 = await open('ann:1', 'x');
    const ann2 = await open('ann:2', 'y');
    const bob = await open('bob:3', 'x');
    const bobPoll = await open('bob:3', 'z', '&transport=long-poll');
    await eventually(() => realtime.stats().openStreams, (n) => expect(n).toBe(4));

    expect(await realtime.disconnect((identity) => identity.token === '1')).toBe(1);
    expect(await ann1.settled()).toBe('ended');
    expect(await realtime.disconnect({ topic: 'z' })).toBe(1);
    expect(await bobPoll.settled()).toBe('ended');
    expect(await realtime.disconnect({ user: 'bob' })).toBe(1);
    expect(await bob.settled()).toBe('ended');
    expect(ann2.state).toBe('open');
    expect(await realtime.disconnect({ user: 'nobody' })).toBe(0);
  });

  it('close() ends every stream, answers 503 afterwards, rejects publish, and leaves a passed-in store usable', async () => {
    const store = memoryStore();
    const { url, realtime } = await startRealtime({ store });
    const stream = await openSse(`${url}?topic=a`);
    const poll = await openSse(`${url}?topic=a&transport=long-poll`);
    await eventually(() => realtime.stats().openStreams, (n) => expect(n).toBe(2));
    await realtime.close();
    await realtime.close();
    expect(await stream.settled()).toBe('ended');
    expect(await poll.settled()).toBe('ended');
    const after = await fetch(url);
    expect(after.status).toBe(503);
    await after.body?.cancel();
    await expect(realtime.publish({ data: 'x' })).rejects.toThrow(/closed/);
    const appended = await store.append({ topic: 'a', type: 'message', data: 'still here' });
    expect((await store.read('0-0', 10)).events).toEqual([appended]);
  });

  it('close() called twice: the second resolves when the first does, once the server left the store group', async () => {
    const store = memoryStore();
    const watcher = await store.join({ receive: () => undefined });
    onCleanup(() => watcher.leave());
    const realtime = createRealtimeServer({ store });
    await realtime.presence('main'); // the server joined the group
    expect(await watcher.members()).toHaveLength(2);
    const first = realtime.close();
    await realtime.close();
    expect(await watcher.members()).toHaveLength(1);
    await first;
  });
});

describe('one store, several servers', () => {
  it('shares events between servers of a process, and a server started later resumes from the store', async () => {
    const store = memoryStore();
    const first = await startRealtime({ store });
    const second = await startRealtime({ store });
    const onSecond = await openSse(`${second.url}?topic=t`);
    await eventually(() => onSecond.text, (text) => expect(text).toContain('retry:'));
    const a = await first.realtime.publish({ topic: 't', data: 'a' });
    await onSecond.until((e) => e.length === 1);
    expect(onSecond.events[0]!.id).toBe(a);

    await first.realtime.close();
    await second.realtime.close();
    const down = await store.append({ topic: 't', type: 'message', data: 'while down' });
    const third = await startRealtime({ store });
    const b = await third.realtime.publish({ topic: 't', data: 'b' });
    const resumed = await openSse(`${third.url}?topic=t`, { headers: { 'Last-Event-ID': a } });
    await resumed.until((e) => e.length === 2);
    expect(resumed.events.map((e) => e.id)).toEqual([down.cursor, b]);
  });
});

describe('streams', () => {
  it('admitted while the store subscription is made again, starts with its headers: no heartbeat before them', async () => {
    const inner = memoryStore();
    let listener: Parameters<EventStore['subscribe']>[0] | undefined;
    let release: (() => void) | undefined;
    const store: EventStore = {
      ...inner,
      async subscribe(l) {
        // The first subscription is made at once; making it again waits for the test.
        if (listener) await new Promise<void>((resolve) => (release = resolve));
        listener = l;
        return inner.subscribe(l);
      },
    };
    const errors: unknown[] = [];
    let authenticating: (() => void) | undefined;
    const authenticated = new Promise<void>((resolve) => (authenticating = resolve));
    let admit!: () => void;
    const admitted = new Promise<void>((resolve) => (admit = resolve));
    const { url, realtime } = await startRealtime({
      store,
      heartbeatMs: 100,
      authenticate: async () => (authenticating?.(), await admitted, 'ann'),
      onError: (error) => errors.push(error),
    });
    await realtime.presence('main'); // subscribed
    const opening = fetch(`${url}?topic=a`);
    // Past the store check, the request waits for its identity while the subscription is lost.
    await authenticated;
    const dropped = new Error('the store dropped the subscription');
    listener!.lost(dropped);
    admit();
    // Registered, and waiting for the subscription again: two heartbeat intervals pass meanwhile.
    await eventually(() => realtime.stats().openStreams, (n) => expect(n).toBe(1));
    await sleep(200);
    release!();
    const res = await opening;
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(first).toMatch(/^: ssemux 1 /);
    // The loss is reported; nothing else (a heartbeat before the headers throws ERR_HTTP_HEADERS_SENT).
    expect(errors.filter((error) => error !== dropped)).toEqual([]);
  });

  it('writes a heartbeat only when nothing else was written for a while', async () => {
    const { url, realtime } = await startRealtime({ heartbeatMs: 100 });
    const res = await openSse(`${url}?topic=t`);
    const busyUntil = Date.now() + 400;
    while (Date.now() < busyUntil) {
      await realtime.publish({ topic: 't', data: 'x' });
      await sleep(20);
    }
    expect(res.text).not.toContain(': hb');
    await eventually(() => res.text, (text) => expect(text).toContain('\n: hb\n\n'), 1_000);
  });

  it('replays more than maxReplay events page by page, in order', async () => {
    const { url, realtime } = await startRealtime({ maxReplay: 10 });
    const first = await realtime.publish({ topic: 't', data: 'start' });
    const cursors: string[] = [];
    for (let i = 0; i < 35; i++) cursors.push(await realtime.publish({ topic: i % 2 ? 't' : 'other', data: String(i) }));
    const res = await openSse(`${url}?topic=t`, { headers: { 'Last-Event-ID': first } });
    await res.until((e) => e.length === 17);
    await sleep(30);
    expect(res.events.map((e) => e.id)).toEqual(cursors.filter((_, i) => i % 2));
  });

  it('replays more than maxBufferedBytes to a client that reads, waiting for it instead of cutting it', async () => {
    const { url, realtime } = await startRealtime({ maxBufferedBytes: 64 * 1024 });
    const cursors: string[] = [];
    for (let i = 0; i < 100; i++) cursors.push(await realtime.publish({ topic: 't', data: `${i}:${'x'.repeat(10_000)}` }));
    const res = await openSse(`${url}?topic=t`, { headers: { 'Last-Event-ID': '0-0' } });
    await res.until((e) => e.length === 100, 10_000);
    expect(res.events.map((e) => e.id)).toEqual(cursors);
    expect(res.state).toBe('open');
  });

  it('cuts a client that does not read once maxBufferedBytes is passed', async () => {
    const { url, realtime } = await startRealtime({ maxBufferedBytes: 64 * 1024 });
    const { port } = new URL(url);
    const socket = net.connect(Number(port), '127.0.0.1');
    onCleanup(async () => void socket.destroy());
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /events?topic=big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    socket.pause(); // never reads: the kernel buffers fill, then the server's own
    await eventually(() => realtime.stats().openSse, (n) => expect(n).toBe(1));
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 1_000 && realtime.stats().openSse === 1; i++) {
      await realtime.publish({ topic: 'big', data: chunk });
      await sleep(0);
    }
    await eventually(() => realtime.stats().openSse, (n) => expect(n).toBe(0));
  });
});

describe('long-poll', () => {
  it('answers at most maxReplay events; the next poll from the last id gets the rest', async () => {
    const { url, realtime } = await startRealtime({ maxReplay: 5 });
    const first = await realtime.publish({ topic: 't', data: '0' });
    const cursors: string[] = [];
    for (let i = 1; i <= 8; i++) cursors.push(await realtime.publish({ topic: 't', data: String(i) }));
    const one = await openSse(`${url}?topic=t&transport=long-poll`, { headers: { 'Last-Event-ID': first } });
    await one.settled();
    expect(one.events.map((e) => e.id)).toEqual(cursors.slice(0, 5));
    const two = await openSse(`${url}?topic=t&transport=long-poll`, { headers: { 'Last-Event-ID': one.lastEventId } });
    await two.settled();
    expect(two.events.map((e) => e.id)).toEqual(cursors.slice(5));
  });

  it('answers a held poll that a burst fills at once with its first maxReplay events', async () => {
    const { url, realtime } = await startRealtime({ maxReplay: 5 });
    const start = await realtime.publish({ topic: 't', data: 'start' });
    const poll = await openSse(`${url}?topic=t&transport=long-poll`, { headers: { 'Last-Event-ID': start } });
    await eventually(() => realtime.stats().openLongPoll, (n) => expect(n).toBe(1));
    const burst: string[] = [];
    for (let i = 0; i < 12; i++) burst.push(await realtime.publish({ topic: 't', data: String(i) }));
    expect(await poll.settled()).toBe('ended');
    expect(poll.events.map((e) => e.id)).toEqual(burst.slice(0, 5));
  });

  it('moves the client past events it may not see, so the next poll does not read them again', async () => {
    const { url, realtime } = await startRealtime({ authenticate: () => 'ann', longPollMs: 300 });
    const start = await realtime.publish({ topic: 't', data: 'start' });
    const poll = await openSse(`${url}?topic=t&transport=long-poll`, { headers: { 'Last-Event-ID': start } });
    await eventually(() => poll.text, (text) => expect(text).toContain('retry:'));
    const forBob = await realtime.publish({ topic: 't', data: 'b', user: 'bob' });
    expect(await poll.settled()).toBe('ended');
    expect(poll.events).toEqual([]);
    expect(poll.lastEventId).toBe(forBob);
  });

  it('counts maxLongPollBytes in bytes: an answer of CJK data ends after the event that takes it past', async () => {
    const { url, realtime } = await startRealtime({ maxLongPollBytes: 1_000, preludePadding: 0 });
    const cjk = '用'.repeat(300); // 300 UTF-16 code units, 900 bytes of UTF-8
    const first = await realtime.publish({ topic: 't', data: 'start' });
    const cursors: string[] = [];
    for (let i = 0; i < 10; i++) cursors.push(await realtime.publish({ topic: 't', data: cjk }));
    const poll = await openSse(`${url}?topic=t&transport=long-poll`, { headers: { 'Last-Event-ID': first } });
    await poll.settled();
    // 900 bytes and more, then 1,800: the second event takes the answer past 1,000 bytes.
    expect(poll.events.map((e) => e.id)).toEqual(cursors.slice(0, 2));
  });

  it('serves a stream instead when longPoll is false', async () => {
    const { url, realtime } = await startRealtime({ longPoll: false });
    const res = await openSse(`${url}?topic=t&transport=long-poll`);
    await eventually(() => res.text, (text) => expect(text).toContain('retry:'));
    await realtime.publish({ topic: 't', data: '1' });
    await realtime.publish({ topic: 't', data: '2' });
    await res.until((e) => e.length === 2);
    expect(res.state).toBe('open');
    expect(realtime.stats().openSse).toBe(1);
  });
});
