import { LAST_EVENT_ID_PARAM } from '../../protocol/wire.js';
import type { Transport } from './transport.js';

/**
 * The platform's EventSource, kept on a short leash: the engine owns reconnection, so the
 * EventSource is closed at its first error and a new one is made with the resume id in the
 * `lastEventId` query parameter (a new EventSource cannot send `Last-Event-ID`).
 *
 * Limits of the platform, by design: no custom headers, no status codes, no comments, no
 * id-only blocks, and only event types someone named: `'*'` covers `message` and the types
 * some listener named.
 */
export const eventSourceTransport: Transport = (request, sink) => {
  const url = new URL(request.url);
  if (request.lastEventId) url.searchParams.set(LAST_EVENT_ID_PARAM, request.lastEventId);
  const source = new EventSource(url.href, { withCredentials: request.withCredentials });
  // A new EventSource starts with no last event id, and its events say '' until an `id:` field
  // comes: until its id moves, the stream's own one stands.
  let shown = '';
  let id = request.lastEventId;
  const onMessage = (e: MessageEvent<string>) => {
    // A listener of a type named `open` or `error` hears the platform's own open and error too:
    // plain Events, with no data and no id. A server's `event: error` is a MessageEvent.
    if (typeof e.data !== 'string') return;
    if (e.lastEventId !== shown) id = shown = e.lastEventId;
    sink.event({ type: e.type, data: e.data, id });
  };
  const listen = (type: string) => source.addEventListener(type, onMessage);
  listen('message');
  for (const type of request.eventTypes) if (type !== 'message') listen(type);
  source.onopen = () => {
    // The platform has checked status 200 and the content type by now: the content type is the one
    // header an open response is asked for here (the prelude is not awaited on this transport).
    sink.response(200, () => 'text/event-stream');
  };
  source.onerror = () => {
    source.close();
    sink.error(new Error('EventSource failed'));
  };
  // A signal aborts once: the listener needs no `once`.
  request.signal.addEventListener('abort', () => source.close());
  return listen;
};
