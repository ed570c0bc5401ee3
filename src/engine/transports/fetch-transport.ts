import { RealtimeError } from '../../protocol/errors.js';
import type { Transport } from './transport.js';

/**
 * fetch + ReadableStream: the only transport that can send any header and a POST body. `fetch`
 * is looked up at call time so tests (msw) and workers see the current global.
 */
export const fetchTransport: Transport = (request, sink) => {
  void (async () => {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      credentials: request.withCredentials ? 'include' : 'same-origin',
      cache: 'no-store',
      signal: request.signal,
    });
    if (!sink.response(response.status, (name) => response.headers.get(name))) {
      void response.body?.cancel().catch(() => {});
      return;
    }
    if (typeof response.body?.getReader !== 'function') {
      throw new RealtimeError('unsupported', 'fetch cannot stream responses here');
    }
    const reader = response.body.getReader();
    // One decoder per response: it strips exactly the one leading BOM of each body.
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (request.signal.aborted) return;
      if (done) break;
      sink.text(decoder.decode(value, { stream: true }));
    }
    const rest = decoder.decode();
    if (rest) sink.text(rest);
    sink.end(false);
  })().catch((error: unknown) => {
    if (!request.signal.aborted) sink.error(error);
  });
};
