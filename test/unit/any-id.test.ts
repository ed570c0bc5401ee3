import { HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Connection, ConnectionOptions } from '../../src/engine/connection.js';
import { settle, until } from '../support/fake-time.js';
import { openConnection } from '../support/open-connection.js';
import { createSseMock } from '../support/sse-mock.js';

// Ids of any Unicode text, and headers no request can carry. A header value is a byte string, so
// the platform's EventSource sends an id's UTF-8 bytes; the engine must send the same bytes with
// fetch, XHR and long-poll, and report a header that cannot be sent at all instead of retrying.

const URL_ = 'http://127.0.0.1:9/ids';
const { server, requests, serve } = createSseMock(URL_);
const connections: Connection[] = [];

/** The header value whose characters are the UTF-8 bytes of `text`: what goes on the wire. */
const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

const open = (overrides: Partial<ConnectionOptions> = {}) => openConnection(URL_, connections, overrides);

async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await settle();
}

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  requests.length = 0;
});
afterEach(async () => {
  for (const c of connections.splice(0)) c.close();
  await settle(2);
  vi.useRealTimers();
  server.resetHandlers();
});
afterAll(() => server.close());

describe('ids of any text', () => {
  for (const id of ['…', '注文-2', 'ok 🎉 done', 'é']) {
    it(`resumes after id ${JSON.stringify(id)}, sending its UTF-8 bytes as Last-Event-ID`, async () => {
      serve((req, i) => (i === 0 ? req.stream(`id: ${id}\ndata: first\n\n`) : req.stream('data: second\n\n')));
      const c = open();
      await until(() => c.events.length === 1, 'first event');
      expect(c.events[0]).toMatchObject({ id, data: 'first' });
      requests[0]!.drop();
      await until(() => c.last().state === 'reconnecting', 'reconnecting');
      expect(c.last().lastEventId).toBe(id);
      await advance(c.last().retryInMs!);
      await until(() => c.events.length === 2, 'second event after the reconnection');
      expect(requests[1]!.headers.get('last-event-id')).toBe(utf8Bytes(id));
      expect(c.last()).toMatchObject({ state: 'open', lastEventId: id });
    });
  }

  it('a first request resuming from a non-ASCII position sends its bytes too, on long-poll as well', async () => {
    serve((req) => req.stream('data: x\n\n'));
    const c = open({ transport: 'long-poll', lastEventId: '注文-2' });
    await until(() => c.events.length === 1, 'event');
    expect(requests[0]!.url.searchParams.get('transport')).toBe('long-poll');
    expect(requests[0]!.headers.get('last-event-id')).toBe(utf8Bytes('注文-2'));
  });
});

describe('headers no request can carry', () => {
  it('a provider token outside Latin-1 closes the stream with code headers, and no request is retried', async () => {
    serve((req) => req.stream());
    const c = open({ headers: () => ({ Authorization: 'Bearer 注文' }) });
    await until(() => c.last().state === 'closed', 'closed');
    expect(c.last().error).toMatchObject({ code: 'headers' });
    expect(c.last().error!.message).toContain(URL_);
    await advance(60_000);
    expect(requests).toHaveLength(0);
    expect(c.statuses.filter((s) => s.state === 'reconnecting')).toHaveLength(0);
  });

  it('a header name that is not a token closes the stream too', async () => {
    serve((req) => req.stream());
    const c = open({ headers: () => ({ 'X Bad': 'v' }) });
    await until(() => c.last().state === 'closed', 'closed');
    expect(c.last().error).toMatchObject({ code: 'headers' });
    expect(requests).toHaveLength(0);
  });

  it('a network failure is still retried (the check refuses only what cannot be sent)', async () => {
    serve((req, i) => (i === 0 ? HttpResponse.error() : req.stream()));
    const c = open({ headers: () => ({ Authorization: 'Bearer latin-1 é' }) });
    await until(() => c.last().state === 'reconnecting', 'reconnecting');
    expect(c.last().error).toMatchObject({ code: 'network' });
    await advance(c.last().retryInMs!);
    await until(() => c.last().state === 'open', 'open');
    expect(requests[1]!.headers.get('authorization')).toBe('Bearer latin-1 é');
  });
});
