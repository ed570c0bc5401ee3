import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SharedEventSource } from '../../../src/eventsource/index.js';

// SharedEventSource's error paths, as the platform's EventSource takes them: a URL fetch cannot
// get fails at once; a cross-origin attempt that fails as a network failure is told apart from a
// CORS refusal (fail for good) by a no-cors HEAD, which a server that is there answers.

const CROSS = 'http://127.0.0.1:9/cors';
const server = setupServer();
const heads: string[] = [];

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function record(es: SharedEventSource) {
  const log: string[] = [];
  es.onopen = () => log.push(`open ${es.readyState}`);
  es.onerror = () => log.push(`error ${es.readyState}`);
  return log;
}

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  await import('../../../src/client/fallback-order.js');
});
beforeEach(() => {
  // As in a page of another origin than the stream's.
  vi.stubGlobal('window', globalThis);
  vi.stubGlobal('location', { origin: 'http://page.test', href: 'http://page.test/' });
  heads.length = 0;
});
afterEach(() => {
  vi.unstubAllGlobals();
  server.resetHandlers();
});
afterAll(() => server.close());

describe('SharedEventSource: a URL fetch cannot get', () => {
  for (const url of ['ftp://example.not/', 'about:blank', 'mailto:whatwg@awesome.example', "javascript:alert('FAIL')"]) {
    it(`${url}: one error, CLOSED, and no request`, async () => {
      const es = new SharedEventSource(url, { sharing: 'none' });
      const log = record(es);
      expect(es.readyState).toBe(0);
      await until(() => log.length === 1, 'the error');
      await new Promise((r) => setTimeout(r, 50));
      expect(log).toEqual(['error 2']);
    });
  }

  it('close() before the error: no error', async () => {
    const es = new SharedEventSource('ftp://example.not/', { sharing: 'none' });
    const log = record(es);
    es.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(log).toEqual([]);
  });
});

describe('SharedEventSource: on a server (no window)', () => {
  it('an http(s) URL stays inert, as the client is there: no request', async () => {
    vi.unstubAllGlobals();
    let requests = 0;
    server.use(http.all(CROSS, () => (requests++, HttpResponse.error())));
    const es = new SharedEventSource(CROSS);
    const log = record(es);
    await new Promise((r) => setTimeout(r, 100));
    expect([requests, log, es.readyState]).toEqual([0, [], 0]);
    es.close();
  });
});

describe('SharedEventSource: a cross-origin failure', () => {
  it('refused by CORS (a no-cors HEAD gets an answer): one error, CLOSED, as the platform', async () => {
    server.use(
      http.head(CROSS, ({ request }) => {
        heads.push(request.mode);
        return new HttpResponse(null, { status: 200 });
      }),
      http.get(CROSS, () => HttpResponse.error()),
    );
    const es = new SharedEventSource(CROSS, { sharing: 'none' });
    const log = record(es);
    await until(() => log.length === 1, 'the error');
    await new Promise((r) => setTimeout(r, 100));
    expect(log).toEqual(['error 2']);
    expect(heads).toEqual(['no-cors']);
  });

  it('a network failure (the no-cors HEAD fails too): error, CONNECTING, and the source retries', async () => {
    let gets = 0;
    server.use(
      http.head(CROSS, () => HttpResponse.error()),
      http.get(CROSS, () => {
        gets++;
        return HttpResponse.error();
      }),
    );
    const es = new SharedEventSource(CROSS, { sharing: 'none' });
    const log = record(es);
    await until(() => log.length === 1, 'the error');
    expect(log).toEqual(['error 0']);
    await until(() => gets >= 2, 'a retry', 5000);
    es.close();
  });

  it('a same-origin failure is a network failure: no probe', async () => {
    vi.stubGlobal('location', { origin: 'http://127.0.0.1:9', href: 'http://127.0.0.1:9/' });
    server.use(
      http.head(CROSS, () => {
        heads.push('head');
        return new HttpResponse(null);
      }),
      http.get(CROSS, () => HttpResponse.error()),
    );
    const es = new SharedEventSource(CROSS, { sharing: 'none' });
    const log = record(es);
    await until(() => log.length === 1, 'the error');
    expect(log).toEqual(['error 0']);
    expect(heads).toEqual([]);
    es.close();
  });
});
