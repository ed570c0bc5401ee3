import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fetchEventSource, type EventSourceMessage } from '../../../src/eventsource/index.js';
import { createSseMock } from '../../support/sse-mock.js';

// fetchEventSource with ids of any text, and the blocks without data that 2.0.1 hands to
// onmessage and the shared stream does not (README: "Migrating", fetch-event-source).

const BASE = 'http://127.0.0.1:9/fes-ids';
const { server, requests, serve } = createSseMock(`${BASE}/*`);
let counter = 0;
const controllers: AbortController[] = [];

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function run(headers: Record<string, string> = {}) {
  const controller = new AbortController();
  controllers.push(controller);
  const messages: EventSourceMessage[] = [];
  void fetchEventSource(`${BASE}/${++counter}`, { sharing: 'none', signal: controller.signal, headers, onopen: async () => {}, onmessage: (m) => messages.push(m) });
  return messages;
}

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  await import('../../../src/client/fallback-order.js');
  await import('../../../src/client/credentials.js');
});
beforeEach(() => {
  vi.stubGlobal('window', globalThis);
  requests.length = 0;
});
afterEach(async () => {
  for (const c of controllers.splice(0)) c.abort();
  await until(() => requests.every((r) => r.signal.aborted), 'requests closed');
  vi.unstubAllGlobals();
  server.resetHandlers();
});
afterAll(() => server.close());

const utf8Bytes = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

describe('fetchEventSource: ids of any text', () => {
  it('a Last-Event-ID header given as UTF-8 bytes resumes from that id, sent back as the same bytes', async () => {
    serve((req, i) => (i === 0 ? req.stream('data: a\n\n') : req.stream()));
    const messages = run({ 'Last-Event-ID': utf8Bytes('注文-2') });
    await until(() => messages.length === 1, 'the event');
    expect(requests[0]!.headers.get('last-event-id')).toBe(utf8Bytes('注文-2'));
    // The event has no id of its own: '' as with 2.0.1.
    expect(messages[0]).toMatchObject({ id: '', data: 'a' });
  });

  it('an event id of any text reaches onmessage as text', async () => {
    serve((req) => req.stream('id: 注文-3 🎉\ndata: b\n\n'));
    const messages = run();
    await until(() => messages.length === 1, 'the event');
    expect(messages[0]).toMatchObject({ id: '注文-3 🎉', data: 'b' });
  });
});

describe('fetchEventSource: resuming a new request after an id of any text', () => {
  it('onopen refusing a stream: the new request resumes after the id handed over, as its UTF-8 bytes', async () => {
    serve((req, i) => {
      if (i === 0) {
        // A network drop after the first event: the client reconnects by itself.
        setTimeout(() => req.drop(), 20);
        return req.stream('id: 注文-4\ndata: first\n\n');
      }
      return i === 1 ? req.stream('id: 注文-5\ndata: of the refused response\n\n') : req.stream('data: second\n\n');
    });
    const controller = new AbortController();
    controllers.push(controller);
    const messages: EventSourceMessage[] = [];
    let opens = 0;
    void fetchEventSource(`${BASE}/${++counter}`, {
      sharing: 'none',
      signal: controller.signal,
      onopen: async () => {
        // The reconnection's stream is refused: a new request starts, after the last event handed over.
        if (++opens === 2) throw new Error('refused');
      },
      onmessage: (m) => messages.push(m),
      onerror: () => 20,
    });
    await until(() => messages.length === 2, 'the event of the third request', 5000);
    expect(messages.map((m) => m.data)).toEqual(['first', 'second']);
    expect(requests.map((r) => r.headers.get('last-event-id'))).toEqual([null, utf8Bytes('注文-4'), utf8Bytes('注文-4')]);
  });
});

describe('fetchEventSource: blocks without data', () => {
  it('onmessage is called for events, not for a block with only retry:, only id:, a comment or nothing', async () => {
    serve((req) => req.stream('retry: 5000\n\nid: 7\n\n: heartbeat\n\n\n\ndata: x\n\n'));
    const messages = run();
    await until(() => messages.length === 1, 'the event');
    await new Promise((r) => setTimeout(r, 50));
    // 2.0.1 would call onmessage five times before this one (README says why not here).
    expect(messages).toEqual([{ id: '7', event: '', data: 'x', retry: undefined }]);
  });
});
