// @ts-check
/**
 * `GET /events`: a long-lived SSE response. `retry:` first, then the replay of buffered events
 * after the resume point, then live events, with a comment heartbeat.
 */
import { isVisibleTo } from './event-log.js';
import { createEventWriter, destroyAfter, formatComment, formatRetry, startEventStream } from './sse-response.js';

/** @typedef {import('node:http').ServerResponse} ServerResponse */
/** @typedef {import('./events-route.js').EventsContext} EventsContext */
/** @typedef {import('./events-route.js').EventsRequest} EventsRequest */

/**
 * @param {EventsContext} ctx
 * @param {ServerResponse} res
 * @param {EventsRequest} request
 */
export function serveSse(ctx, res, { stream, viewer, resumeId, fault }) {
  startEventStream(res);
  ctx.open.track({ res, stream, kind: 'sse' });

  if (fault?.kind === 'stall') return; // headers only; not even a heartbeat
  if (fault?.kind === 'drop' && fault.after === 0) return destroyAfter(res);

  res.write(formatRetry(ctx.timing.retryMs));
  const writer = createEventWriter(res, {
    dropAfter: fault?.kind === 'drop' ? fault.after : null,
    onSent: () => ctx.counters.eventsSent++,
  });

  if (resumeId !== null) {
    for (const event of ctx.log.since(stream, resumeId, viewer)) if (!writer.send(event)) return;
  }

  const unsubscribe = ctx.log.subscribe(stream, (event) => {
    if (isVisibleTo(event, viewer)) writer.send(event);
  });
  const heartbeat = setInterval(() => {
    if (!res.writableEnded) res.write(formatComment('hb'));
  }, ctx.timing.heartbeatMs);

  res.once('close', () => {
    unsubscribe();
    clearInterval(heartbeat);
  });
}
