import type { ServerResponse } from 'node:http';
import { compareCursors } from '../protocol/wire.js';
import type { StoredEvent } from './event-store.js';
import { startEventStream } from './event-stream-response.js';
import { admit, isVisible, type ServeContext, type ServeRequest } from './serve-context.js';
import { formatDenied, formatEvent, formatIdOnly, formatReset } from './sse-format.js';
import type { OpenConnection } from './stream-registry.js';

/** As in serveStream: live events waiting for the read of the store; past this, read again. */
const MAX_QUEUED = 10_000;

/**
 * A long-poll answer (server protocol §6): the same headers and prelude, then at most
 * `maxReplay` events after the cursor and the end of the response. With nothing to send it is
 * held until an event arrives (plus `longPollBatchMs` to collect a batch) or `longPollMs` pass.
 * Without a cursor it first names the head of the log in an id-only block, so that the client
 * has a position for its next poll.
 */
export async function serveLongPoll<I>(ctx: ServeContext<I>, res: ServerResponse, request: ServeRequest<I>): Promise<void> {
  const { config, store, counters } = ctx;
  const { user, withTopic } = request;
  const selected = new Set(request.topics);
  const matches = (event: StoredEvent) => selected.has(event.topic) && isVisible(event, user);
  // Every event of the log up to `position` has been written or is not for this client;
  // `announced` is the last id the client has been given.
  let position = request.cursor ?? '';
  let announced = request.cursor;
  let queue: StoredEvent[] | null = [];
  let overflows = 0;
  let batch: StoredEvent[] | null = null;
  let batchTimer: ReturnType<typeof setTimeout> | undefined;
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;

  const gone = () => res.destroyed || res.writableEnded;
  const send = (event: StoredEvent) => {
    counters.eventsSent++;
    res.write(formatEvent(event, withTopic));
    position = announced = event.cursor;
  };
  const finish = () => {
    clearTimeout(batchTimer);
    clearTimeout(holdTimer);
    if (gone()) return;
    // Events that were not for this client moved the position on: say so, or the next poll
    // reads them again.
    if (position && position !== announced) res.write(formatIdOnly(position));
    res.end();
  };
  // While held: the first event for this client opens the batch window.
  const hold = (event: StoredEvent) => {
    if (compareCursors(event.cursor, position) <= 0) return;
    if (batch) {
      if (matches(event)) batch.push(event);
    } else if (!matches(event)) {
      position = event.cursor;
    } else {
      batch = [event];
      batchTimer = setTimeout(() => {
        for (const next of batch!.slice(0, config.maxReplay)) send(next);
        finish();
      }, config.longPollBatchMs);
    }
  };

  const connection: OpenConnection<I> = {
    kind: 'long-poll',
    identity: request.identity,
    topics: request.topics,
    offer(event) {
      if (!queue) return hold(event);
      if (queue.length >= MAX_QUEUED) {
        queue.length = 0;
        overflows++;
      }
      queue.push(event);
    },
    end() {
      ended = true;
      if (res.headersSent) finish();
    },
  };
  res.once('close', () => {
    clearTimeout(batchTimer);
    clearTimeout(holdTimer);
  });

  if (!(await admit(ctx, res, connection, () => ended))) return;
  startEventStream(res, config.preludePadding, config.retryMs);
  if (!position) {
    position = await store.head();
    if (gone()) return;
    announced = position;
    res.write(formatIdOnly(position));
  }
  if (request.denied.length > 0) res.write(formatDenied(request.denied));

  let answered = false;
  for (;;) {
    const seen = overflows;
    const page = await store.read(position, config.maxReplay);
    if (gone()) return;
    if (page.reset) {
      res.write(formatReset(page.reset.cursor, { from: position, reason: page.reset.reason }));
      position = announced = page.reset.cursor;
      answered = true;
    }
    let sent = 0;
    for (const event of page.events) {
      if (matches(event)) {
        if (sent === config.maxReplay) break;
        send(event);
        sent++;
        answered = true;
      }
      position = event.cursor;
    }
    if (answered || (page.events.length < config.maxReplay && seen === overflows)) break;
  }
  if (answered || ended) return finish();

  holdTimer = setTimeout(finish, config.longPollMs);
  const waiting = queue!;
  queue = null;
  for (const event of waiting) hold(event);
}
