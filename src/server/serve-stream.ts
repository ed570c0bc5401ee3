import type { ServerResponse } from 'node:http';
import { compareCursors } from '../protocol/wire.js';
import type { StoredEvent } from './event-store.js';
import { drained, startEventStream } from './event-stream-response.js';
import { admit, isVisible, type ServeContext, type ServeRequest } from './serve-context.js';
import { formatDenied, formatEvent, formatIdOnly, formatReset, HEARTBEAT } from './sse-format.js';
import type { OpenConnection } from './stream-registry.js';

/**
 * Live events that arrive while a replay is still being read wait here; past this many the
 * queue is dropped and the replay reads on from the store instead, where they are anyway.
 */
const MAX_QUEUED = 10_000;

/**
 * A streaming response (server protocol §3–4): prelude, `ssemux:denied`, the replay
 * after the resume cursor, then live events, with no gap and no repeat where they meet.
 *
 * The stitch: the connection takes live events from before its first read of the store (they
 * wait in a queue), reads the store until it reaches the end, and then lets through only what
 * comes after the last cursor it read.
 */
export async function serveStream<I>(ctx: ServeContext<I>, res: ServerResponse, request: ServeRequest<I>): Promise<void> {
  const { config, store, counters } = ctx;
  const { user, withTopic } = request;
  const selected = new Set(request.topics);
  let queue: StoredEvent[] | null = [];
  let overflows = 0;
  // Every event of the log up to `position` has been written or is not for this connection.
  let position = request.cursor;
  let caughtUp = false;
  let quiet = false;
  let ended = false;

  const write = (text: string) => {
    if (res.writableEnded || res.destroyed) return;
    res.write(text);
    quiet = false;
    // A live client that does not read: cut it, it resumes from its last event. (The replay
    // waits for the client instead, or a large one would be cut again on every attempt.)
    if (!queue && res.writableLength > config.maxBufferedBytes) res.destroy();
  };
  const send = (event: StoredEvent, text: string) => {
    position = event.cursor;
    counters.eventsSent++;
    write(text);
  };

  const connection: OpenConnection<I> = {
    kind: 'sse',
    identity: request.identity,
    topics: request.topics,
    offer(event, wire) {
      if (!isVisible(event, user)) return;
      if (queue) {
        if (queue.length >= MAX_QUEUED) {
          queue.length = 0;
          overflows++;
        }
        queue.push(event);
        return;
      }
      if (!caughtUp) {
        if (compareCursors(event.cursor, position!) <= 0) return; // already in the replay
        caughtUp = true; // cursors only grow from here
      }
      send(event, wire(withTopic));
    },
    heartbeat() {
      if (quiet) write(HEARTBEAT);
      quiet = true;
    },
    end() {
      ended = true;
      if (res.headersSent) res.end();
    },
  };

  if (!(await admit(ctx, res, connection, () => ended))) return;
  startEventStream(res, config.preludePadding, config.retryMs);
  if (request.denied.length > 0) write(formatDenied(request.denied));
  if (position === null) {
    // Without a resume cursor the stream starts at the end of the log, and says where that is:
    // the client then has a cursor from the first byte, for any reconnect.
    position = await store.head();
    write(formatIdOnly(position));
  }

  for (;;) {
    const seen = overflows;
    const page = await store.read(position, config.maxReplay);
    if (res.destroyed || res.writableEnded) return;
    if (page.reset) {
      write(formatReset(page.reset.cursor, { from: position, reason: page.reset.reason }));
      position = page.reset.cursor;
    }
    for (const event of page.events) {
      if (selected.has(event.topic) && isVisible(event, user)) send(event, formatEvent(event, withTopic));
      position = event.cursor;
      if (res.writableNeedDrain) await drained(res);
    }
    if (res.destroyed || res.writableEnded) return;
    // A short page reached the end of the log; the queue holds the rest unless it overflowed
    // during the read, in which case what it dropped must be read again.
    if (page.events.length < config.maxReplay && seen === overflows) break;
  }

  for (const event of queue) {
    if (compareCursors(event.cursor, position) > 0) send(event, formatEvent(event, withTopic));
  }
  queue = null;
}
