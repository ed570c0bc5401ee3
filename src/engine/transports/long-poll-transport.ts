import { fetchTransport } from './fetch-transport.js';
import { LONG_POLL, TRANSPORT_PARAM } from '../../protocol/wire.js';
import type { Transport } from './transport.js';

/**
 * Long-polling for networks whose proxies buffer streams: each request carries
 * `transport=long-poll`, the server answers with what it has since `Last-Event-ID` (holding the
 * request while it has nothing) and ends, and the connection asks again (at once after an answer
 * with events, otherwise no sooner than `minRetryMs` after the previous poll began). The body is
 * ordinary SSE, read by the same parser.
 */
export const longPollTransport: Transport = (request, sink) => {
  const url = new URL(request.url);
  url.searchParams.set(TRANSPORT_PARAM, LONG_POLL);
  return fetchTransport({ ...request, url: url.href }, { ...sink, end: () => sink.end(true) });
};
