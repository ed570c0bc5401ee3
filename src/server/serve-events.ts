import type { ServerResponse } from 'node:http';
import { compareCursors } from '../protocol/wire.js';
import type { StoredEvent } from './event-store.js';
import { drained, startEventStream } from './event-stream-response.js';
import { admit, isVisible, type ServeContext, type ServeRequest } from './serve-context.js';
import { FIRST_REPLAY_PAGE, MAX_QUEUED_LIVE } from './server-options.js';
import { formatDenied, formatEvent, formatIdOnly, formatReset, HEARTBEAT } from './sse-format.js';
import type { OpenConnection, WireText } from './stream-registry.js';

/** Bytes a replayed event is counted for beyond its data: its id, type and topic lines. */
const EVENT_OVERHEAD = 64;

/**
 * One `/events` response, a stream or a long-poll answer: the delivery both share (server
 * protocol §3, §4, §6). The prelude; without a resume cursor, an id-only block naming the end
 * of the log; `ssemux:denied`; then the replay of what the log holds after the cursor, read in
 * pages and written as the client takes it; for a stream that asked, `ssemux:presence` of each
 * topic; then live events (and presence changes), with no gap and no repeat where replay and
 * live meet. A long-poll answer that asked ends with the presence of each topic.
 *
 * The stitch: the connection takes live events from before its first read of the store (they
 * wait in a queue), reads the store until it reaches the end, and then lets through only what
 * comes after the last cursor it read. A queue that overflows during a long replay is dropped,
 * and the replay reads on: the events it held are in the store.
 *
 * A stream then goes on with live events; a client that stops reading is cut once
 * `maxBufferedBytes` wait for it. A long-poll answer ends once it holds `maxReplay` events or
 * `maxLongPollBytes`, or at the end of the replay if that found anything; otherwise it is held
 * until live events come (and `longPollBatchMs` more, to answer them together) or `longPollMs`
 * pass. Replay and answers wait for a client that reads slowly, and cut one that reads nothing
 * for `writeTimeoutMs`: it resumes from its last event.
 */
export async function serveEvents<I>(ctx: ServeContext<I>, res: ServerResponse, request: ServeRequest<I>, kind: OpenConnection<I>['kind']): Promise<void> {
  const { config, store, counters } = ctx;
  const { user, withTopic } = request;
  const longPoll = kind === 'long-poll';
  const selected = new Set(request.topics);
  const matches = (event: StoredEvent) => selected.has(event.topic) && isVisible(event, user);

  // Every event of the log up to `position` has been written or is not for this client;
  // `announced` is the last id the client has been given.
  let position = request.cursor;
  let announced = request.cursor;
  let queue: StoredEvent[] | null = [];
  let overflows = 0;
  let caughtUp = false;
  let quiet = false;
  let ended = false;
  let sentEvents = 0;
  let sentBytes = 0;
  // A held long-poll's answer in the making, once a first live event for it came.
  let batch: StoredEvent[] | null = null;
  let batchBytes = 0;
  let batchTimer: ReturnType<typeof setTimeout> | undefined;
  let holdTimer: ReturnType<typeof setTimeout> | undefined;

  // While corked (the fan-out hands this connection several events), writes are joined into one.
  let corked: string | null = null;
  const gone = () => res.destroyed || res.writableEnded;
  const write = (text: string) => {
    if (gone()) return;
    if (corked !== null) corked += text;
    else res.write(text);
    quiet = false;
  };
  const send = (event: StoredEvent, text: string) => {
    counters.eventsSent++;
    sentEvents++;
    // Bytes, as maxLongPollBytes says (a CJK character is 3): only a long-poll answer counts them.
    if (longPoll) sentBytes += Buffer.byteLength(text);
    write(text);
    position = announced = event.cursor;
  };
  const answerFull = () => longPoll && (sentEvents >= config.maxReplay || sentBytes >= config.maxLongPollBytes);

  /** Ends a long-poll answer; events it passed over (other users') move the client on too. */
  const finish = () => {
    clearTimeout(batchTimer);
    clearTimeout(holdTimer);
    if (gone()) return;
    // A long-poll carries presence as it stands when the answer ends: no change events.
    if (request.presence && ctx.presence) for (const topic of request.topics) write(ctx.presence.snapshot(topic));
    if (position && position !== announced) write(formatIdOnly(position));
    res.end();
  };

  /** A live event of a stream, once its replay is over. */
  const live = (event: StoredEvent, wire: WireText) => {
    if (!caughtUp) {
      if (compareCursors(event.cursor, position!) <= 0) return; // already in the replay
      caughtUp = true; // cursors only grow from here
    }
    if (!isVisible(event, user)) return;
    send(event, wire(withTopic));
    // A live client that does not read: cut it, it resumes from its last event.
    if (res.writableLength + (corked?.length ?? 0) > config.maxBufferedBytes) res.destroy();
  };

  const answerBatch = () => {
    for (const event of batch ?? []) send(event, formatEvent(event, withTopic));
    finish();
  };
  /** A live event for a held long-poll: the first one for this client opens the batch window. */
  const hold = (event: StoredEvent) => {
    if (gone() || compareCursors(event.cursor, position!) <= 0) return;
    if (!batch) {
      if (!isVisible(event, user)) return void (position = event.cursor);
      batch = [];
      batchTimer = setTimeout(answerBatch, config.longPollBatchMs);
    } else if (!isVisible(event, user)) return;
    batch.push(event);
    batchBytes += Buffer.byteLength(event.data) + EVENT_OVERHEAD;
    if (batch.length >= config.maxReplay || batchBytes >= config.maxLongPollBytes) answerBatch();
  };

  const connection: OpenConnection<I> = {
    kind,
    identity: request.identity,
    topics: request.topics,
    offer(event, wire) {
      if (queue) {
        if (!longPoll && !isVisible(event, user)) return;
        if (queue.length >= MAX_QUEUED_LIVE) {
          queue.length = 0;
          overflows++;
        }
        queue.push(event);
      } else if (longPoll) hold(event);
      else live(event, wire);
    },
    // A long-poll writes its answer at once when it ends: nothing to join.
    cork: longPoll
      ? undefined
      : () => {
          corked ??= '';
        },
    uncork: longPoll
      ? undefined
      : () => {
          const text = corked;
          corked = null;
          if (text) write(text);
        },
    heartbeat: longPoll
      ? undefined
      : () => {
          // Registered before its admission waits for the store (./serve-context.ts): a stream
          // whose headers are not written yet has nothing to keep alive, and must not start its body.
          if (!res.headersSent) return;
          if (quiet) write(HEARTBEAT);
          quiet = true;
        },
    end() {
      ended = true;
      if (!res.headersSent) return;
      if (longPoll) finish();
      else res.end();
    },
  };
  if (longPoll) {
    res.once('close', () => {
      clearTimeout(batchTimer);
      clearTimeout(holdTimer);
    });
  }

  if (!(await admit(ctx, res, connection, request, () => ended))) return;
  startEventStream(res, config.preludePadding, config.retryMs);
  if (position === null) {
    // Without a resume cursor the response starts at the end of the log, and says where that
    // is: the client has a cursor from the first byte, for any reconnect or next poll.
    position = announced = await store.head();
    if (gone()) return;
    write(formatIdOnly(position));
  }
  if (request.denied.length > 0) write(formatDenied(request.denied));

  let limit = Math.min(config.maxReplay, FIRST_REPLAY_PAGE);
  let reset = false;
  for (;;) {
    const seen = overflows;
    const page = await store.read(position, limit);
    if (gone()) return;
    if (page.reset) {
      write(formatReset(page.reset.cursor, { from: position, reason: page.reset.reason }));
      position = announced = page.reset.cursor;
      reset = true;
    }
    let bytes = 0;
    for (const event of page.events) {
      bytes += Buffer.byteLength(event.data) + EVENT_OVERHEAD;
      if (matches(event)) {
        if (answerFull()) break;
        send(event, formatEvent(event, withTopic));
        if (res.writableNeedDrain && !(await drained(res, config.writeTimeoutMs))) return;
      }
      position = event.cursor;
    }
    if (gone()) return;
    if (answerFull()) break;
    // A short page reached the end of the log; the queue holds the rest unless it overflowed
    // during the read, in which case what it dropped must be read again.
    if (page.events.length < limit && seen === overflows) break;
    // Later pages as large as fit in `replayPageBytes`, by the size of this one's events.
    if (page.events.length > 0) limit = Math.max(1, Math.min(config.maxReplay, Math.floor((config.replayPageBytes * page.events.length) / bytes)));
  }

  const waiting = queue;
  queue = null;
  if (!longPoll) {
    if (request.presence && ctx.presence) {
      // Who reads each topic, once the replay is written and before anything live; then its changes.
      for (const topic of request.topics) write(ctx.presence.snapshot(topic));
      const unwatch = ctx.presence.watch({
        topics: request.topics,
        send(text) {
          write(text);
          if (res.writableLength > config.maxBufferedBytes) res.destroy();
        },
      });
      res.once('close', unwatch);
    }
    for (const event of waiting) live(event, (topicLine) => formatEvent(event, topicLine));
    return;
  }
  // An answer with events, or with a reset, is never held (server protocol §6).
  if (sentEvents > 0 || reset || ended) return finish();
  holdTimer = setTimeout(finish, config.longPollMs);
  for (const event of waiting) hold(event);
}
