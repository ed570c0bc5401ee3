// Tests for the demo server (demo-server/, on ssemux/server) and the buffering proxy, over real
// HTTP: its endpoints, faults and hardening. The protocol itself is tested in test/conformance.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryStore } from 'ssemux/server';
import { createDemoServer, type DemoServer, type DemoServerOptions } from '../../demo-server/server.js';
import { createBufferingProxy } from '../support/buffering-proxy.js';
import { eventually } from '../support/eventually.js';

// ---------------------------------------------------------------------------------------------
// Helpers

const closers: Array<() => Promise<void>> = [];
const controllers: AbortController[] = [];

afterEach(async () => {
  for (const controller of controllers.splice(0)) controller.abort();
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function start(options: DemoServerOptions = {}): Promise<DemoServer> {
  const server = await createDemoServer({ port: 0, heartbeatMs: 5_000, longPollMs: 5_000, ...options });
  closers.push(server.close);
  return server;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A streaming response body, read as it arrives: raw text, parsed events, how it ended. */
class BodyReader {
  text = '';
  events: EventSourceMessage[] = [];
  retries: number[] = [];
  comments: string[] = [];
  /** 'open' while reading; 'ended' on a clean end of body; 'failed' when the connection broke. */
  state: 'open' | 'ended' | 'failed' = 'open';
  readonly finished: Promise<void>;

  constructor(body: ReadableStream<Uint8Array>) {
    const parser = createParser({
      onEvent: (event) => this.events.push(event),
      onRetry: (ms) => this.retries.push(ms),
      onComment: (comment) => this.comments.push(comment),
    });
    const decoder = new TextDecoder();
    const reader = body.getReader();
    this.finished = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          const chunk = decoder.decode(value, { stream: true });
          this.text += chunk;
          parser.feed(chunk);
        }
        this.state = 'ended';
      } catch {
        this.state = 'failed';
      }
    })();
  }

  waitForText(needle: string, ms = 2_000) {
    return eventually(
      () => this.text,
      (text) => expect(text).toContain(needle),
      ms,
    );
  }

  waitForEvents(count: number, ms = 2_000) {
    return eventually(
      () => this.events,
      (events) => expect(events.length).toBeGreaterThanOrEqual(count),
      ms,
    );
  }

  /** Resolves with the final state; rejects if the body is still open after `ms`. */
  async settled(ms = 2_000) {
    await Promise.race([
      this.finished,
      sleep(ms).then(() => {
        throw new Error(`body still open after ${ms} ms`);
      }),
    ]);
    return this.state;
  }
}

/** fetch() that the afterEach aborts, so no test leaves a request hanging. */
async function open(url: string, init: RequestInit = {}) {
  const controller = new AbortController();
  controllers.push(controller);
  const res = await fetch(url, { ...init, signal: controller.signal });
  const body = res.body ? new BodyReader(res.body) : null;
  return { res, body: body as BodyReader, abort: () => controller.abort() };
}

async function post(url: string, json: unknown = {}, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null };
}

const ids = (events: EventSourceMessage[]) => events.map((e) => e.id);
/** What every stream starts with (server protocol §3). */
const prelude = (retryMs = 1000) => `: ssemux 1 ${' '.repeat(2048)}\nretry: ${retryMs}\n\n`;
/** The n of a memory store's cursor `<generation>-<n>`. */
const ordinal = (cursor: string) => Number(cursor.split('-')[1]);

// ---------------------------------------------------------------------------------------------

describe('SSE wire format', () => {
  it('sends the SSE headers, the prelude, then id/event/data lines, with no event: line for message', async () => {
    const srv = await start({ retryMs: 1234 });
    const first = await srv.publish({ data: 'hello' });
    await srv.publish({ type: 'greet', data: 'line1\nline2' });
    const third = await srv.publish({ type: 'obj', data: { a: 1, b: 'two' } });

    const { res, body } = await open(`${srv.url}/events`, { headers: { 'Last-Event-ID': '0-0' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    expect(res.headers.get('ssemux')).toBe('1');

    await body.waitForEvents(3);
    const generation = first.split('-')[0];
    expect(body.text).toBe(
      prelude(1234) +
        `id: ${generation}-1\ndata: hello\n\n` +
        `id: ${generation}-2\nevent: greet\ndata: line1\ndata: line2\n\n` +
        `id: ${third}\nevent: obj\ndata: {"a":1,"b":"two"}\n\n`,
    );
    expect(body.retries).toEqual([1234]);
    expect(body.events[1]).toEqual({ id: `${generation}-2`, event: 'greet', data: 'line1\nline2' });
  });

  it('sends the Connection: keep-alive header', async () => {
    const srv = await start();
    // fetch hides Connection, so look at the raw response with node:http.
    const { request } = await import('node:http');
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = request(`${srv.url}/events`, (res) => {
        resolve(res.headers);
        req.destroy();
      });
      req.on('error', reject);
      req.end();
    });
    expect(headers.connection).toBe('keep-alive');
  });

  it('writes a comment heartbeat every heartbeatMs', async () => {
    const srv = await start({ heartbeatMs: 40 });
    const { body } = await open(`${srv.url}/events`);
    await eventually(
      () => body.comments.filter((c) => c === 'hb').length,
      (n) => expect(n).toBeGreaterThanOrEqual(2),
    );
    expect(body.text).toContain(': hb\n\n');
    expect(body.events).toEqual([]);
  });

  it('streams live events only when there is no resume point', async () => {
    const srv = await start();
    await srv.publish({ data: 'old' });
    const { body } = await open(`${srv.url}/events`);
    await body.waitForText('retry:');
    const live = await post(`${srv.url}/publish`, { type: 'news', data: { x: 1 } });
    expect(live.json).toEqual({ id: expect.stringMatching(/^\d+-2$/) });
    // A marker published after it: whatever came twice would stand before the marker.
    const marker = await srv.publish({ data: 'marker' });
    await body.waitForEvents(2);
    expect(body.events).toEqual([{ id: live.json.id, event: 'news', data: '{"x":1}' }, { id: marker, data: 'marker' }]);
  });

  it('accepts POST /events like GET: a body without topics is a plain connection, with topics a topic connection', async () => {
    const srv = await start();
    await srv.publish({ data: 'posted' });
    await srv.publish({ topic: 'a', data: 'on a' });
    const plain = await open(`${srv.url}/events`, {
      method: 'POST',
      headers: { 'Last-Event-ID': '0-0', 'content-type': 'application/json' },
      body: JSON.stringify({ filter: 'x' }),
    });
    expect(plain.res.status).toBe(200);
    await plain.body.waitForEvents(1);
    expect(plain.body.events.map((e) => e.data)).toEqual(['posted']);

    const topics = await open(`${srv.url}/events`, {
      method: 'POST',
      headers: { 'Last-Event-ID': '0-0', 'content-type': 'application/json' },
      body: JSON.stringify({ topics: ['a'] }),
    });
    await topics.body.waitForEvents(1);
    expect(topics.body.events.map((e) => e.data)).toEqual(['a\non a']);
  });

  it('turns CR and CRLF in data into separate data: lines', async () => {
    const srv = await start();
    const id = await srv.publish({ data: 'a\r\nb\rc' });
    const { body } = await open(`${srv.url}/events?lastEventId=0-0`);
    await body.waitForEvents(1);
    expect(body.text).toContain(`id: ${id}\ndata: a\ndata: b\ndata: c\n\n`);
  });
});

describe('topics, cursors and replay', () => {
  it('replays events of the stream after the Last-Event-ID header, then goes live', async () => {
    const srv = await start();
    const m1 = await srv.publish({ data: 'm1' });
    await srv.publish({ stream: 'other', data: 'o1' });
    const m2 = await srv.publish({ data: 'm2' });
    const m3 = await srv.publish({ data: 'm3' });

    const { body } = await open(`${srv.url}/events`, { headers: { 'Last-Event-ID': m1 } });
    await body.waitForEvents(2);
    expect(body.events.map((e) => [e.id, e.data])).toEqual([
      [m2, 'm2'],
      [m3, 'm3'],
    ]);

    await srv.publish({ stream: 'other', data: 'o2' });
    const m4 = await srv.publish({ data: 'm4' });
    await body.waitForEvents(3);
    expect(body.events[2]).toMatchObject({ id: m4, data: 'm4' });
  });

  it('replays after the lastEventId query parameter, and the header wins over it', async () => {
    const srv = await start();
    const cursors: string[] = [];
    for (let i = 1; i <= 4; i++) cursors.push(await srv.publish({ data: `e${i}` }));

    const byQuery = await open(`${srv.url}/events?lastEventId=${cursors[1]}`);
    await byQuery.body.waitForEvents(2);
    expect(ids(byQuery.body.events)).toEqual(cursors.slice(2));

    const both = await open(`${srv.url}/events?lastEventId=${cursors[0]}`, { headers: { 'Last-Event-ID': cursors[2]! } });
    const marker = await srv.publish({ data: 'marker' });
    await both.body.waitForEvents(2);
    expect(ids(both.body.events)).toEqual([cursors[3], marker]);
  });

  it('numbers every topic in one log, serves stream=<name> as a plain connection and topic= as a topic connection', async () => {
    const srv = await start();
    const x = (await post(`${srv.url}/publish`, { stream: 'a', data: 'x' })).json.id;
    const y = (await post(`${srv.url}/publish`, { topic: 'b', data: 'y' })).json.id;
    expect(ordinal(y)).toBe(ordinal(x) + 1);
    const legacy = await open(`${srv.url}/events?stream=b&lastEventId=0-0`);
    await legacy.body.waitForEvents(1);
    expect(legacy.body.events).toEqual([{ id: y, data: 'y' }]);
    const topics = await open(`${srv.url}/events?topic=a&topic=b&lastEventId=0-0`);
    await topics.body.waitForEvents(2);
    expect(topics.body.events).toEqual([
      { id: x, data: 'a\nx' },
      { id: y, data: 'b\ny' },
    ]);
  });

  it('keeps only bufferSize events, and tells a client that resumes from before them with ssemux:reset', async () => {
    const srv = await start({ bufferSize: 3 });
    const cursors: string[] = [];
    for (let i = 1; i <= 5; i++) cursors.push(await srv.publish({ data: `e${i}` }));
    const { body } = await open(`${srv.url}/events?lastEventId=${cursors[0]}`);
    await body.waitForEvents(4);
    const marker = await srv.publish({ data: 'marker' });
    await body.waitForEvents(5);
    expect(body.events[0]).toEqual({ id: cursors[1], event: 'ssemux:reset', data: JSON.stringify({ from: cursors[0], reason: 'retention' }) });
    expect(ids(body.events.slice(1))).toEqual([...cursors.slice(2), marker]);
  });
});

describe('auth and per-user events', () => {
  async function login(srv: DemoServer, user: string) {
    const { status, json, headers } = await post(`${srv.url}/login`, { user });
    expect(status).toBe(200);
    return { token: json.token as string, cookie: headers.get('set-cookie') ?? '' };
  }

  it('answers 401 without credentials, before any SSE header', async () => {
    const srv = await start({ auth: true });
    const res = await fetch(`${srv.url}/events`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.headers.get('content-type')).not.toContain('text/event-stream');
    await res.text();
    const bad = await fetch(`${srv.url}/events`, { headers: { Authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    await bad.text();
    expect((await srv.stats()).connections).toBe(0);
  });

  it('shows user events only to that user, in replay and live', async () => {
    const srv = await start({ auth: true });
    const alice = await login(srv, 'alice');
    const bob = await login(srv, 'bob');
    expect(alice.token).not.toBe(bob.token);

    await srv.publish({ data: 'for alice', user: 'alice' });
    await srv.publish({ data: 'for bob', user: 'bob' });
    await srv.publish({ data: 'for all' });

    const a = await open(`${srv.url}/events?lastEventId=0-0`, { headers: { Authorization: `Bearer ${alice.token}` } });
    const b = await open(`${srv.url}/events?lastEventId=0-0`, { headers: { Authorization: `Bearer ${bob.token}` } });
    expect(a.res.status).toBe(200);
    await a.body.waitForEvents(2);
    await b.body.waitForEvents(2);

    await post(`${srv.url}/publish`, { data: 'live bob', user: 'bob' });
    await post(`${srv.url}/publish`, { data: 'live alice', user: 'alice' });
    await a.body.waitForEvents(3);
    await b.body.waitForEvents(3);
    await sleep(30);
    expect(a.body.events.map((e) => e.data)).toEqual(['for alice', 'for all', 'live alice']);
    expect(b.body.events.map((e) => e.data)).toEqual(['for bob', 'for all', 'live bob']);
  });

  it('accepts the session cookie set by /login, and a second token of the same user', async () => {
    const srv = await start({ auth: true });
    const first = await login(srv, 'carol');
    const second = await login(srv, 'carol');
    expect(first.cookie).toMatch(/^session=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    await srv.publish({ data: 'mine', user: 'carol' });
    await srv.publish({ data: 'not mine', user: 'dave' });

    const cookie = first.cookie.split(';')[0]!;
    expect(cookie).toBe(`session=${first.token}`);
    const viaCookie = await open(`${srv.url}/events?lastEventId=0-0`, { headers: { Cookie: `theme=dark; ${cookie}` } });
    expect(viaCookie.res.status).toBe(200);
    await viaCookie.body.waitForEvents(1);

    const viaSecond = await open(`${srv.url}/events?lastEventId=0-0`, {
      headers: { Authorization: `Bearer ${second.token}` },
    });
    await viaSecond.body.waitForEvents(1);
    await sleep(30);
    expect(viaCookie.body.events.map((e) => e.data)).toEqual(['mine']);
    expect(viaSecond.body.events.map((e) => e.data)).toEqual(['mine']);
  });

  it('revoking a token ends the streams opened with it, and refuses it with 401 afterwards', async () => {
    const srv = await start({ auth: true });
    const { token } = await login(srv, 'erin');
    const other = await login(srv, 'erin');
    const revoked = await open(`${srv.url}/events`, { headers: { Authorization: `Bearer ${token}` } });
    const kept = await open(`${srv.url}/events`, { headers: { Authorization: `Bearer ${other.token}` } });
    const poll = await open(`${srv.url}/events?transport=long-poll`, { headers: { Authorization: `Bearer ${token}` } });
    expect(revoked.res.status).toBe(200);
    await eventually(async () => (await srv.stats()).openStreams, (n) => expect(n).toBe(3));

    expect((await post(`${srv.url}/revoke`, { token })).json).toEqual({ revoked: true, ended: 2 });
    expect(await revoked.body.settled()).toBe('ended');
    expect(await poll.body.settled()).toBe('ended');
    expect(kept.body.state).toBe('open');
    const again = await fetch(`${srv.url}/events`, { headers: { Authorization: `Bearer ${token}` } });
    expect(again.status).toBe(401);
    await again.text();
  });

  const decodePart = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  const encodePart = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const eventsStatus = async (srv: DemoServer, token: string) => {
    const res = await fetch(`${srv.url}/events?transport=long-poll&lastEventId=0-0`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    await res.text();
    return res.status;
  };

  it('mints JWT-shaped tokens: three base64url parts, HS256 header, the user as sub', async () => {
    const srv = await start({ auth: true });
    const before = Math.floor(Date.now() / 1000);
    const { token } = await login(srv, 'frank');
    const parts = token.split('.');
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePart(parts[0]!)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const payload = decodePart(parts[1]!);
    expect(payload).toEqual({ iss: 'ssemux-demo', sub: 'frank', iat: expect.any(Number), jti: expect.any(String) });
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(Buffer.from(parts[2]!, 'base64url')).toHaveLength(32); // HMAC-SHA256
  });

  it('gives each login of one user a different token, and all of them work', async () => {
    const srv = await start({ auth: true });
    await srv.publish({ data: 'x' }); // so an accepted long-poll answers at once
    const first = await login(srv, 'gina');
    const second = await login(srv, 'gina');
    expect(first.token).not.toBe(second.token);
    expect(decodePart(first.token.split('.')[1]!).jti).not.toBe(decodePart(second.token.split('.')[1]!).jti);
    expect(await eventsStatus(srv, first.token)).toBe(200);
    expect(await eventsStatus(srv, second.token)).toBe(200);
  });

  it('rejects a token whose payload was tampered with, and a token signed by another server', async () => {
    const srv = await start({ auth: true });
    await srv.publish({ data: 'x' });
    await login(srv, 'mallory-victim');
    const { token } = await login(srv, 'mallory');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const forged = `${header}.${encodePart({ ...decodePart(payload), sub: 'mallory-victim' })}.${signature}`;
    expect(await eventsStatus(srv, forged)).toBe(401);
    const badSignature = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    expect(await eventsStatus(srv, `${header}.${payload}.${badSignature}`)).toBe(401);
    expect(await eventsStatus(srv, token)).toBe(200);

    const other = await start({ auth: true });
    const foreign = await login(other, 'mallory');
    expect(await eventsStatus(srv, foreign.token)).toBe(401);
  });

  it('rejects a revoked token while the same user’s other token still works', async () => {
    const srv = await start({ auth: true });
    await srv.publish({ data: 'x' });
    const revoked = await login(srv, 'hana');
    const kept = await login(srv, 'hana');
    expect((await post(`${srv.url}/revoke`, { token: revoked.token })).json).toEqual({ revoked: true, ended: 0 });
    expect((await post(`${srv.url}/revoke`, { token: revoked.token })).json).toEqual({ revoked: false, ended: 0 });
    expect(await eventsStatus(srv, revoked.token)).toBe(401);
    const viaCookie = await fetch(`${srv.url}/events?transport=long-poll&lastEventId=0-0`, {
      headers: { Cookie: revoked.cookie.split(';')[0]! },
    });
    expect(viaCookie.status).toBe(401);
    await viaCookie.text();
    expect(await eventsStatus(srv, kept.token)).toBe(200);
  });

  it('answers a malformed session cookie with 400, never 500', async () => {
    const srv = await start({ auth: true });
    for (const path of ['/events', '/stats']) {
      const res = await fetch(`${srv.url}${path}`, { headers: { Cookie: 'theme=dark; session=%E0%A4%A' } });
      expect(res.status, path).toBe(400);
      expect(await res.json()).toEqual({ error: 'malformed session cookie' });
    }
    const login = await fetch(`${srv.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json', Cookie: 'session=%' }, body: '{"user":"x"}' });
    expect(login.status).toBe(400);
    await login.text();
  });

  it('with auth off everyone is anonymous: events published for a user reach no one', async () => {
    const srv = await start();
    await srv.publish({ data: 'private', user: 'alice' });
    const open1 = await srv.publish({ data: 'public' });
    const { body } = await open(`${srv.url}/events?lastEventId=0-0`);
    await body.waitForEvents(1);
    await sleep(30);
    expect(body.events).toEqual([{ id: open1, data: 'public' }]);
  });
});

describe('long-poll', () => {
  it('answers at once with the backlog and ends', async () => {
    const srv = await start({ retryMs: 700 });
    const one = await srv.publish({ data: 'one' });
    const two = await srv.publish({ type: 'two', data: '2' });
    await srv.publish({ stream: 'elsewhere', data: 'x' });

    const started = Date.now();
    const res = await fetch(`${srv.url}/events?transport=long-poll`, { headers: { 'Last-Event-ID': '0-0' } });
    const text = await res.text();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(text).toBe(`${prelude(700)}id: ${one}\ndata: one\n\nid: ${two}\nevent: two\ndata: 2\n\nid: ${two.replace(/\d+$/, '3')}\n\n`);
    expect((await srv.stats()).openLongPoll).toBe(0);
  });

  it('holds the request, then answers with a batch when events arrive', async () => {
    const srv = await start({ longPollMs: 5_000 });
    const seen = await srv.publish({ data: 'seen' });
    const { res, body } = await open(`${srv.url}/events?transport=long-poll&lastEventId=${seen}`);
    expect(res.status).toBe(200);
    expect(await srv.stats()).toMatchObject({ openLongPoll: 1, openStreams: 1 });
    await sleep(50);
    expect(body.state).toBe('open');
    expect(body.text).toBe(prelude());

    const a = await srv.publish({ data: 'a' });
    const b = await srv.publish({ data: 'b' }); // within the batch window
    expect(await body.settled()).toBe('ended');
    expect(ids(body.events)).toEqual([a, b]);
    expect(body.retries).toEqual([1000]);
    await eventually(async () => (await srv.stats()).openLongPoll, (n) => expect(n).toBe(0));
  });

  it('without a resume point, names the head of the log first, then waits for what comes after it', async () => {
    const srv = await start({ longPollMs: 150 });
    await srv.publish({ data: 'old' });
    const head = await srv.publish({ data: 'older' });

    const waiting = await open(`${srv.url}/events?transport=long-poll`);
    await waiting.body.waitForText(`id: ${head}\n\n`);
    expect(waiting.body.state).toBe('open');
    const fresh = await srv.publish({ data: 'new' });
    expect(await waiting.body.settled()).toBe('ended');
    expect(waiting.body.events).toEqual([{ id: fresh, data: 'new' }]);

    const timedOut = await fetch(`${srv.url}/events?transport=long-poll`);
    expect(await timedOut.text()).toBe(`${prelude()}id: ${fresh}\n\n`);
  });

  it('ends with nothing after the prelude after longPollMs when nothing happens', async () => {
    const srv = await start({ longPollMs: 120 });
    const x = await srv.publish({ data: 'x' });
    const started = Date.now();
    const res = await fetch(`${srv.url}/events?transport=long-poll&lastEventId=${x}`);
    const text = await res.text();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(100);
    expect(waited).toBeLessThan(1_000);
    expect(text).toBe(prelude());
  });

  it('does not wake up for another user’s events', async () => {
    const srv = await start({ auth: true, longPollMs: 2_000 });
    const { json } = await post(`${srv.url}/login`, { user: 'alice' });
    const start0 = await srv.publish({ data: 'start' });
    const poll = await open(`${srv.url}/events?transport=long-poll&lastEventId=${start0}`, {
      headers: { Authorization: `Bearer ${json.token}` },
    });
    await srv.publish({ data: 'for bob', user: 'bob' });
    await sleep(60);
    expect(poll.body.state).toBe('open');
    await srv.publish({ data: 'for alice', user: 'alice' });
    await poll.body.settled();
    expect(poll.body.events.map((e) => e.data)).toEqual(['for alice']);
  });

  it('honours faults', async () => {
    const srv = await start();
    const res = await fetch(`${srv.url}/events?transport=long-poll&fault=status&status=503&retryAfter=2`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    await res.text();

    const cursors: string[] = [];
    for (let i = 0; i < 3; i++) cursors.push(await srv.publish({ data: `e${i}` }));
    const dropped = await open(`${srv.url}/events?transport=long-poll&lastEventId=0-0&fault=drop&after=2`);
    expect(await dropped.body.settled()).toBe('failed');
    expect(ids(dropped.body.events)).toEqual(cursors.slice(0, 2));
  });
});

describe('/stats', () => {
  it('counts open SSE streams and held long-polls, and goes back to 0 when clients leave', async () => {
    const srv = await start({ longPollMs: 5_000 });
    expect(await srv.stats()).toMatchObject({ openStreams: 0, openSse: 0, openLongPoll: 0, connections: 0 });

    const a = await open(`${srv.url}/events`);
    const b = await open(`${srv.url}/events?stream=prices`);
    const c = await open(`${srv.url}/events?transport=long-poll`);
    await c.body.waitForText('id: ');

    const res = await fetch(`${srv.url}/stats`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const stats = await res.json();
    expect(stats).toMatchObject({
      openStreams: 3,
      openSse: 2,
      openLongPoll: 1,
      connections: 3,
      perStream: { main: { open: 2 }, prices: { open: 1 } },
      latestId: expect.stringMatching(/^\d+-0$/),
      burst: null,
    });

    const x = await post(`${srv.url}/publish`, { data: 'x' });
    await a.body.waitForEvents(1);
    await c.body.settled();
    const after = await srv.stats();
    expect(after.eventsPublished).toBe(1);
    expect(after.eventsSent).toBe(2); // one SSE stream + the long-poll
    expect(after.openLongPoll).toBe(0);
    expect(after.latestId).toBe(x.json.id);

    a.abort();
    b.abort();
    await eventually(
      () => srv.stats(),
      (s) => expect(s).toMatchObject({ openStreams: 0, openSse: 0, openLongPoll: 0, perStream: { main: { open: 0 } } }),
    );
  });

  it('lists a topic named __proto__ in perStream like any other', async () => {
    const srv = await start();
    const { body } = await open(`${srv.url}/events?topic=__proto__`);
    await body.waitForText('retry:');
    await eventually(() => srv.stats(), (stats) => expect(stats.openStreams).toBe(1));
    const stats = await (await fetch(`${srv.url}/stats`)).text();
    expect(JSON.parse(stats).perStream).toEqual(JSON.parse('{"main":{"open":0},"__proto__":{"open":1}}'));
  });

  it('counts a held long-poll that the client abandons until it goes', async () => {
    const srv = await start({ longPollMs: 5_000 });
    const poll = await open(`${srv.url}/events?transport=long-poll`);
    await poll.body.waitForText('id: ');
    expect((await srv.stats()).openLongPoll).toBe(1);
    poll.abort();
    await eventually(async () => (await srv.stats()).openStreams, (n) => expect(n).toBe(0));
  });

  it("counts a browser in presence under the visitor name its page set (the demo_name cookie), anonymous without one", async () => {
    const srv = await start();
    const watcher = await open(`${srv.url}/events?topic=main&presence=1`, { headers: { Cookie: 'demo_name=ada%20lovelace' } });
    await watcher.body.waitForEvents(1);
    await open(`${srv.url}/events?topic=main`, { headers: { Cookie: `demo_name=${'x'.repeat(41)}` } });
    await open(`${srv.url}/events?topic=main`);
    const last = () => JSON.parse(watcher.body.events.at(-1)!.data.split('\n')[1]!);
    await eventually(last, (presence) => expect(presence.anonymous).toBe(2));
    expect(watcher.body.events[0]).toMatchObject({ event: 'ssemux:presence', data: 'main\n{"members":[{"user":"ada lovelace","browsers":1}],"anonymous":0}' });
    expect(last()).toEqual({ members: [{ user: 'ada lovelace', browsers: 1 }], anonymous: 2, change: { user: null, browsers: 2 } });
  });
});

describe('faults', () => {
  it('drop: sends `after` events (replay + live), then cuts the connection', async () => {
    const srv = await start();
    await srv.publish({ data: 'r1' });
    await srv.publish({ data: 'r2' });
    expect((await post(`${srv.url}/faults`, { kind: 'drop', after: 3 })).status).toBe(200);

    const { res, body } = await open(`${srv.url}/events?lastEventId=0-0`);
    expect(res.status).toBe(200);
    await body.waitForEvents(2);
    expect(body.state).toBe('open');
    await srv.publish({ data: 'l3' });
    await srv.publish({ data: 'l4' });
    expect(await body.settled()).toBe('failed');
    expect(body.events.map((e) => e.data)).toEqual(['r1', 'r2', 'l3']);

    // The fault was used up: the next request streams normally.
    const next = await open(`${srv.url}/events?lastEventId=0-0`);
    await next.body.waitForEvents(4);
    expect(next.body.state).toBe('open');
  });

  it('drop with after=0 cuts right after the headers (query form)', async () => {
    const srv = await start();
    await srv.publish({ data: 'never' });
    const { res, body } = await open(`${srv.url}/events?lastEventId=0-0&fault=drop&after=0`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(await body.settled()).toBe('failed');
    expect(body.text).toBe('');
  });

  it('stall: headers, then no byte at all, until the client leaves', async () => {
    const srv = await start({ heartbeatMs: 30 });
    await srv.publish({ data: 'x' });
    await post(`${srv.url}/faults`, { kind: 'stall' });
    const { res, body, abort } = await open(`${srv.url}/events?lastEventId=0-0`);
    expect(res.status).toBe(200);
    await srv.publish({ data: 'y' });
    await sleep(150);
    expect(body.text).toBe('');
    expect(body.state).toBe('open');
    expect((await srv.stats()).openSse).toBe(1);
    abort();
    await eventually(async () => (await srv.stats()).openStreams, (n) => expect(n).toBe(0));
  });

  it('status: answers the code with Retry-After and an empty body, `times` requests', async () => {
    const srv = await start();
    await post(`${srv.url}/faults`, { kind: 'status', status: 503, retryAfter: 1, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${srv.url}/events`);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.text()).toBe('');
    }
    const third = await open(`${srv.url}/events`);
    expect(third.res.status).toBe(200);

    for (const status of [204, 401, 404, 429, 500]) {
      const res = await fetch(`${srv.url}/events?fault=status&status=${status}`);
      expect(res.status).toBe(status);
      expect(res.headers.get('retry-after')).toBeNull();
      await res.text();
    }
  });

  it('does not spend a queued fault on a request that is answered 401', async () => {
    const srv = await start({ auth: true });
    await post(`${srv.url}/faults`, { kind: 'status', status: 503 });
    const anonymous = await fetch(`${srv.url}/events`);
    expect(anonymous.status).toBe(401);
    await anonymous.text();
    const { json } = await post(`${srv.url}/login`, { user: 'ivy' });
    const res = await fetch(`${srv.url}/events`, { headers: { Authorization: `Bearer ${json.token}` } });
    expect(res.status).toBe(503);
    await res.text();
  });

  it('content-type: answers 200 with a non-SSE type and a short body', async () => {
    const srv = await start();
    await post(`${srv.url}/faults`, { kind: 'content-type', contentType: 'application/json' });
    const queued = await fetch(`${srv.url}/events`);
    expect(queued.status).toBe(200);
    expect(queued.headers.get('content-type')).toContain('application/json');
    expect((await queued.text()).length).toBeGreaterThan(0);

    const byQuery = await fetch(`${srv.url}/events?fault=content-type`);
    expect(byQuery.headers.get('content-type')).toContain('text/plain');
    await byQuery.text();
  });

  it('limits a queued fault to its topic, and DELETE /faults clears the queue', async () => {
    const srv = await start();
    await post(`${srv.url}/faults`, { kind: 'status', status: 500, stream: 'prices' });
    const main = await open(`${srv.url}/events`);
    expect(main.res.status).toBe(200);
    const prices = await fetch(`${srv.url}/events?topic=news&topic=prices`);
    expect(prices.status).toBe(500);
    await prices.text();

    await post(`${srv.url}/faults`, { kind: 'status', status: 500, times: 5 });
    const cleared = await fetch(`${srv.url}/faults`, { method: 'DELETE' });
    expect(await cleared.json()).toEqual({ cleared: 1 });
    const after = await open(`${srv.url}/events`);
    expect(after.res.status).toBe(200);
  });

  it("the end fault answers a stream with only retry: and ends it; every /events request is counted, faults included", async () => {
    const srv = await start();
    const before = (await srv.stats()).requests;
    expect((await post(`${srv.url}/faults`, { kind: 'end', retry: 0, times: 2 })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${srv.url}/events`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(await res.text()).toBe('retry: 0\n\n');
    }
    const huge = await fetch(`${srv.url}/events?fault=end&retry=2147483648`);
    expect(await huge.text()).toBe('retry: 2147483648\n\n');
    expect((await post(`${srv.url}/faults`, { kind: 'end', retry: -1 })).status).toBe(400);
    expect((await srv.stats()).requests - before).toBe(3);
  });

  it('rejects an unknown fault kind', async () => {
    const srv = await start();
    expect((await post(`${srv.url}/faults`, { kind: 'explode' })).status).toBe(400);
    const res = await fetch(`${srv.url}/events?fault=explode`);
    expect(res.status).toBe(400);
    await res.text();
  });

  it('drop-all destroys every open /events response (optionally of one topic)', async () => {
    const srv = await start();
    const a = await open(`${srv.url}/events`);
    const b = await open(`${srv.url}/events?stream=other`);
    const c = await open(`${srv.url}/events?transport=long-poll`);
    await c.body.waitForText('id: ');

    expect((await post(`${srv.url}/faults/drop-all`, { stream: 'other' })).json).toEqual({ dropped: 1 });
    expect(await b.body.settled()).toBe('failed');
    expect(a.body.state).toBe('open');

    expect((await post(`${srv.url}/faults/drop-all`)).json).toEqual({ dropped: 2 });
    expect(await a.body.settled()).toBe('failed');
    expect(await c.body.settled()).toBe('failed');
    await eventually(async () => (await srv.stats()).openStreams, (n) => expect(n).toBe(0));
  });

  it('restart ends every open response cleanly, and clients can resume', async () => {
    const srv = await start();
    await srv.publish({ data: 'before' });
    const a = await open(`${srv.url}/events?lastEventId=0-0`);
    await a.body.waitForEvents(1);

    expect((await post(`${srv.url}/faults/restart`)).json).toEqual({ ended: 1 });
    expect(await a.body.settled()).toBe('ended');

    const during = await srv.publish({ data: 'during' });
    const resumed = await open(`${srv.url}/events`, { headers: { 'Last-Event-ID': a.body.events.at(-1)!.id! } });
    await resumed.body.waitForEvents(1);
    expect(resumed.body.events).toEqual([{ id: during, data: 'during' }]);
  });
});

describe('publishing', () => {
  it('POST /publish returns the cursor; objects are JSON-encoded; a bad topic or type is a 400', async () => {
    const srv = await start();
    const { body } = await open(`${srv.url}/events?stream=s`);
    await body.waitForText('retry:');
    const first = await post(`${srv.url}/publish`, { stream: 's', data: { n: 1 } });
    const second = await post(`${srv.url}/publish`, { topic: 's', type: 'note', data: 'plain' });
    expect(ordinal(second.json.id)).toBe(ordinal(first.json.id) + 1);
    await body.waitForEvents(2);
    expect(body.events).toEqual([
      { id: first.json.id, data: '{"n":1}' },
      { id: second.json.id, event: 'note', data: 'plain' },
    ]);
    expect((await post(`${srv.url}/publish`, { topic: 'a\nb', data: 'x' })).status).toBe(400);
    expect((await post(`${srv.url}/publish`, { type: 'ssemux:reset', data: 'x' })).status).toBe(400);
  });

  it('POST /publish: a numeric user is its decimal text; a user or topic given as null or "" is a 400, not an event for everyone', async () => {
    const srv = await start({ auth: true });
    const bob = (await post(`${srv.url}/login`, { user: 'bob' })).json.token as string;
    const user42 = (await post(`${srv.url}/login`, { user: '42' })).json.token as string;
    expect((await post(`${srv.url}/publish`, { user: 42, data: 'for 42' })).status).toBe(200);
    for (const odd of [{ user: null }, { user: '' }, { topic: null }, { topic: '' }, { type: null }]) {
      expect((await post(`${srv.url}/publish`, { ...odd, data: 'leak' })).status, JSON.stringify(odd)).toBe(400);
    }
    await post(`${srv.url}/publish`, { data: 'for all' });
    const replay = async (token: string) => (await fetch(`${srv.url}/events?transport=long-poll&lastEventId=0-0`, { headers: { Authorization: `Bearer ${token}` } })).text();
    expect(await replay(bob)).not.toMatch(/for 42|leak/);
    expect(await replay(user42)).toMatch(/for 42[^]*for all/);
    expect((await srv.stats()).eventsPublished).toBe(2);
  });

  it('POST /publish/burst emits count events at the rate and reports completion in /stats', async () => {
    const srv = await start();
    const { body } = await open(`${srv.url}/events`);
    await body.waitForText('retry:');
    const started = Date.now();
    const res = await post(`${srv.url}/publish/burst`, { count: 50, rate: 500 });
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ started: true });

    const stats = await eventually(
      async () => (await (await fetch(`${srv.url}/stats`)).json()).burst,
      (burst) => expect(burst).toMatchObject({ done: true, sent: 50, error: null }),
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(80); // 50 events at 500/s ≈ 100 ms
    expect(ordinal(stats.lastId) - ordinal(stats.firstId)).toBe(49);

    await body.waitForEvents(50);
    expect(body.events.every((e) => e.event === 'bench')).toBe(true);
    const payloads = body.events.map((e) => JSON.parse(e.data));
    expect(payloads.map((p) => p.seq)).toEqual([...Array(50).keys()]);
    expect(payloads.every((p) => typeof p.t === 'number' && p.t >= started)).toBe(true);
  });

  it('bounds bursts: count ≤ 200,000, rate ≤ 100,000/s, one at a time', async () => {
    const srv = await start();
    expect((await post(`${srv.url}/publish/burst`, { count: 0, rate: 10 })).status).toBe(400);
    expect((await post(`${srv.url}/publish/burst`, { count: 200_001, rate: 10 })).status).toBe(400);
    expect((await post(`${srv.url}/publish/burst`, { count: 10, rate: 100_001 })).status).toBe(400);
    expect((await post(`${srv.url}/publish/burst`, { count: 10, rate: 0 })).status).toBe(400);
    expect((await post(`${srv.url}/publish/burst`, { count: 20, rate: 100 })).status).toBe(202);
    expect((await post(`${srv.url}/publish/burst`, { count: 1, rate: 100 })).status).toBe(409);
    await eventually(async () => (await srv.stats()).burst?.done, (done) => expect(done).toBe(true));
    expect((await post(`${srv.url}/publish/burst`, { count: 1, rate: 100 })).status).toBe(202);
  });
});

describe('hardening of the control endpoints', () => {
  const controls: Array<[string, unknown]> = [
    ['/publish', { data: 'x' }],
    ['/publish/burst', { count: 1, rate: 1 }],
    ['/faults', { kind: 'stall' }],
    ['/faults/drop-all', {}],
    ['/faults/restart', {}],
    ['/login', { user: 'x' }],
    ['/revoke', { token: 'x' }],
    ['/jobs', {}],
    ['/ask', { prompt: 'x' }],
  ];

  it('refuses requests from another site: Sec-Fetch-Site: cross-site, or a foreign Origin', async () => {
    const srv = await start();
    for (const [path, json] of controls) {
      for (const headers of [{ 'Sec-Fetch-Site': 'cross-site' }, { Origin: 'https://evil.example' }, { Origin: 'null' }] as Record<string, string>[]) {
        const res = await post(`${srv.url}${path}`, json, headers);
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(403);
      }
    }
    const cleared = await fetch(`${srv.url}/faults`, { method: 'DELETE', headers: { Origin: 'https://evil.example' } });
    expect(cleared.status).toBe(403);
    expect((await srv.stats()).eventsPublished).toBe(0);
    // The server's own pages are welcome.
    expect((await post(`${srv.url}/publish`, { data: 'x' }, { Origin: srv.url, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(200);
  });

  it('reads bodies only as JSON: a form or text/plain post is refused with 415', async () => {
    const srv = await start();
    for (const [path] of controls) {
      if (path === '/jobs') continue; // reads no body
      for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x']) {
        const res = await fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: 'data=x' });
        expect(res.status, `${path} ${type}`).toBe(415);
        await res.text();
      }
    }
    expect((await srv.stats()).eventsPublished).toBe(0);
  });

  it('with a publish key, POST /publish and bursts need Authorization: Bearer <key>', async () => {
    const srv = await start({ publishKey: 's3cret' });
    expect((await post(`${srv.url}/publish`, { data: 'x' })).status).toBe(401);
    expect((await post(`${srv.url}/publish`, { data: 'x' }, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(`${srv.url}/publish/burst`, { count: 1, rate: 1 })).status).toBe(401);
    const ok = await post(`${srv.url}/publish`, { data: 'x' }, { Authorization: 'Bearer s3cret' });
    expect(ok.status).toBe(200);
    expect(ok.json.id).toMatch(/^\d+-1$/);
    // The scheme is case-insensitive.
    expect((await post(`${srv.url}/publish`, { data: 'y' }, { Authorization: 'bearer s3cret' })).status).toBe(200);
    expect((await post(`${srv.url}/publish`, { data: 'z' }, { Authorization: 's3cret' })).status).toBe(401);
  });
});

describe('demo features', () => {
  it('announces a job on main and streams its progress on the topic jobs/<id>; an answer streams on main', async () => {
    const srv = await start();
    const { body } = await open(`${srv.url}/events`);
    const { body: jobBody } = await open(`${srv.url}/events?topic=jobs/job-1`);
    await body.waitForText('retry:');
    await jobBody.waitForText('retry:');
    const job = await post(`${srv.url}/jobs`);
    const ask = await post(`${srv.url}/ask`, { prompt: 'why SSE?' });
    expect(job.json.jobId).toBe('job-1');
    expect(ask.json.answerId).toEqual(expect.any(String));

    await eventually(
      () => body.events.filter((e) => e.event === 'answer-token').length,
      (n) => expect(n).toBeGreaterThanOrEqual(4),
    );
    await eventually(
      () => jobBody.events.filter((e) => e.event === 'job-progress').length,
      (n) => expect(n).toBeGreaterThanOrEqual(2),
    );
    expect(body.events.filter((e) => e.event === 'job-started').map((e) => JSON.parse(e.data))).toEqual([{ jobId: 'job-1', topic: 'jobs/job-1' }]);
    expect(body.events.filter((e) => e.event === 'job-progress')).toEqual([]);
    // On a topic connection the first data line is the topic.
    const progress = jobBody.events.filter((e) => e.event === 'job-progress').map((e) => JSON.parse(e.data.slice(e.data.indexOf('\n') + 1)));
    expect(progress[0]).toMatchObject({ jobId: job.json.jobId, pct: 0, done: false });
    expect(progress[1]).toMatchObject({ jobId: job.json.jobId, pct: 5 });
    const tokens = body.events.filter((e) => e.event === 'answer-token').map((e) => JSON.parse(e.data));
    expect(tokens[0]).toMatchObject({ answerId: ask.json.answerId, done: false });
    expect(tokens.map((t) => t.token).join('')).toContain('why SSE?');
  });

  it('emits tick and stats every second when demo is on', async () => {
    const srv = await start({ demo: true });
    const { body } = await open(`${srv.url}/events`);
    await eventually(
      () => body.events.map((e) => e.event),
      (types) => expect(types).toEqual(expect.arrayContaining(['tick', 'stats'])),
      2_500,
    );
    const tick = JSON.parse(body.events.find((e) => e.event === 'tick')!.data);
    expect(tick).toEqual({ n: 1, t: expect.any(Number) });
    const stats = JSON.parse(body.events.find((e) => e.event === 'stats')!.data);
    expect(stats).toMatchObject({ openStreams: 1, connections: 1 });
  });
});

describe('close()', () => {
  it('ends open streams and stops listening', async () => {
    const srv = await createDemoServer({ port: 0 });
    const { body } = await open(`${srv.url}/events`);
    await body.waitForText('retry:');
    await srv.close();
    expect(await body.settled()).toBe('ended');
    expect(srv.server.listening).toBe(false);
  });

  it('keeps a passed-in store across a restart on the same port, appends while down included', async () => {
    const store = memoryStore({ maxEvents: 100 });
    const first = await start({ store });
    const port = first.port;
    await first.publish({ data: 'a' });
    await first.publish({ stream: 'other', data: 'x' });
    const b = await first.publish({ data: 'b' });
    const live = await open(`${first.url}/events?lastEventId=0-0`);
    await live.body.waitForEvents(2);
    const lastSeen = live.body.events.at(-1)!.id!;
    expect(lastSeen).toBe(b);

    await first.close();
    expect(await live.body.settled()).toBe('ended');

    // Published while no server runs, straight into the durable log.
    const down = await store.append({ topic: 'main', type: 'message', data: 'c' });
    expect(ordinal(down.cursor)).toBe(4);
    const note = await store.append({ topic: 'main', type: 'note', data: '{"n":1}', user: undefined });
    expect(live.body.events).toHaveLength(2);

    const second = await start({ store, port });
    expect(second.port).toBe(port);
    expect((await second.stats()).latestId).toBe(note.cursor);
    const resumed = await open(`${second.url}/events`, { headers: { 'Last-Event-ID': lastSeen } });
    await resumed.body.waitForEvents(2);
    const d = await second.publish({ data: 'd' });
    await resumed.body.waitForEvents(3);
    await sleep(30);
    expect(resumed.body.events).toEqual([
      { id: down.cursor, data: 'c' },
      { id: note.cursor, event: 'note', data: '{"n":1}' },
      { id: d, data: 'd' },
    ]);
    expect(ordinal((await post(`${second.url}/publish`, { data: 'e' })).json.id)).toBe(7);
  });
});

describe('buffering proxy', () => {
  it('holds the whole body until the upstream response ends', async () => {
    const srv = await start();
    const proxy = await createBufferingProxy({ target: srv.url });
    closers.push(proxy.close);

    const first = await srv.publish({ data: 'first' });
    const pending = open(`${proxy.url}/events?lastEventId=0-0`);
    let arrived = false;
    void pending.then(() => (arrived = true));
    await eventually(async () => (await srv.stats()).openSse, (n) => expect(n).toBe(1));
    const second = await srv.publish({ data: 'second' });
    await sleep(150);
    expect(arrived).toBe(false); // not even the headers got through

    await post(`${srv.url}/faults/restart`);
    const { res, body } = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(await body.settled()).toBe('ended');
    expect(body.text).toBe(`${prelude()}id: ${first}\ndata: first\n\nid: ${second}\ndata: second\n\n`);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(body.text)));
  });

  it('forwards method, path, headers and body', async () => {
    const srv = await start({ auth: true });
    const proxy = await createBufferingProxy({ target: srv.url });
    closers.push(proxy.close);

    const login = await post(`${proxy.url}/login`, { user: 'zoe' });
    expect(login.status).toBe(200);
    expect(login.headers.get('set-cookie')).toContain('session=');
    const hi = await srv.publish({ data: 'hi', user: 'zoe' });
    const res = await fetch(`${proxy.url}/events?transport=long-poll&lastEventId=0-0`, {
      headers: { Authorization: `Bearer ${login.json.token}` },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`${prelude()}id: ${hi}\ndata: hi\n\n`);
    const denied = await fetch(`${proxy.url}/events`);
    expect(denied.status).toBe(401);
    await denied.text();
  });
});
