import { fetchTransport } from './fetch-transport.js';
import type { Transport } from './transport.js';

/**
 * Long-polling for networks whose proxies buffer streams: each request carries
 * `transport=long-poll`, the server answers with what it has since `Last-Event-ID` (holding the
 * request while it has nothing) and ends, and the connection asks again at once. The body is
 * ordinary SSE, read by the same parser.
 */
export const longPollTransport: Transport = (request, sink) => {
  const url = new URL(request.url);
  url.searchParams.set('transport', 'long-poll');
  return fetchTransport({ ...request, url: url.href }, { ...sink, end: () => sink.end(true) });
};
