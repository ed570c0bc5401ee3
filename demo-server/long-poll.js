// @ts-check
/**
 * `GET /events?transport=long-poll`: for networks whose proxies buffer streams. Answers at once
 * with the events after the resume point; with none, holds the request until one arrives (then
 * waits a little to collect a batch) or until `longPollMs` passes. Every answer ends the response.
 */
import { isVisibleTo } from './event-log.js';
import {
  createEventWriter,
  destroyAfter,
  formatComment,
  formatIdOnly,
  formatRetry,
  startEventStream,
} from './sse-response.js';

/** @typedef {import('node:http').ServerResponse} ServerResponse */
/** @typedef {import('./event-log.js').StoredEvent} StoredEvent */
/** @typedef {import('./events-route.js').EventsContext} EventsContext */
/** @typedef {import('./events-route.js').EventsRequest} EventsRequest */

/** After the first new event, how long to wait for more before answering. */
export const BATCH_MS = 15;

/**
 * @param {EventsContext} ctx
 * @param {ServerResponse} res
 * @param {EventsRequest} request
 */
export function serveLongPoll(ctx, res, { stream, viewer, resumeId, fault }) {
  startEventStream(res);
  ctx.open.track({ res, stream, kind: 'long-poll' });

  if (fault?.kind === 'stall') return;
  if (fault?.kind === 'drop' && fault.after === 0) return destroyAfter(res);

  // Without a resume point, "now" is the resume point; the answer then tells the client its id.
  const from = resumeId ?? ctx.log.latestId;
  const announceId = resumeId === null;
  const writer = createEventWriter(res, {
    dropAfter: fault?.kind === 'drop' ? fault.after : null,
    onSent: () => ctx.counters.eventsSent++,
  });

  /** @type {() => void} */
  let unsubscribe = () => {};
  /** @type {NodeJS.Timeout | undefined} */
  let batchTimer;
  /** @type {NodeJS.Timeout | undefined} */
  let holdTimer;
  const stopWaiting = () => {
    unsubscribe();
    clearTimeout(batchTimer);
    clearTimeout(holdTimer);
  };

  /** @param {StoredEvent[]} events */
  const answer = (events) => {
    stopWaiting();
    if (res.writableEnded || res.destroyed) return;
    res.write(formatRetry(ctx.timing.retryMs));
    if (events.length === 0 && announceId) res.write(formatIdOnly(from));
    for (const event of events) if (!writer.send(event)) return; // dropped
    res.end();
  };

  const backlog = ctx.log.since(stream, from, viewer);
  if (backlog.length > 0) return answer(backlog);

  unsubscribe = ctx.log.subscribe(stream, (event) => {
    if (batchTimer || !isVisibleTo(event, viewer)) return;
    batchTimer = setTimeout(() => answer(ctx.log.since(stream, from, viewer)), BATCH_MS);
  });
  holdTimer = setTimeout(() => {
    stopWaiting();
    res.end(formatComment('no new events') + (announceId ? formatIdOnly(from) : ''));
  }, ctx.timing.longPollMs);
  res.once('close', stopWaiting);
}
