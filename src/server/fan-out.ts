import type { StoredEvent } from './event-store.js';
import { FAN_OUT_ROUND_BYTES, FAN_OUT_ROUND_EVENTS } from './server-options.js';
import { formatEvent } from './sse-format.js';
import type { OpenConnection, StreamRegistry, WireText } from './stream-registry.js';

/** Hands the store's live events to the connections that carry their topics. */
export interface FanOut {
  /** Queues `event` for every connection of its topic; delivered in order, now or soon. */
  push(event: StoredEvent): void;
  /** Events not yet handed to every connection. */
  readonly backlog: number;
  /** Drops what is queued and stops. */
  close(): void;
}

/** Events handed out together: each connection gets its share of them in one write. */
interface Round<I> {
  events: StoredEvent[];
  wires: WireText[];
  /** Per event, the connections of its topic when the round began; null when every target takes every event (one topic). */
  carriers: ReadonlySet<OpenConnection<I>>[] | null;
  /** Every connection of the round, in order; later ones read the events from the store. */
  targets: OpenConnection<I>[];
  next: number;
}

/** How many connections are served between two looks at the clock. */
const CONNECTIONS_PER_CHECK = 4;

/**
 * The fan-out of one server. One publish to thousands of connections is thousands of socket
 * writes: done in one go, a burst would hold the process for seconds. Here events wait in one
 * queue and are handed out in rounds: the events queued when a round begins (up to
 * `FAN_OUT_ROUND_EVENTS` and about `FAN_OUT_ROUND_BYTES`), each connection getting its share of
 * them in cursor order as one write. Rounds run in turns (a `setImmediate` each) sized so that
 * one turn with what it leaves Node to do lasts about `sliceMs`; between turns the process
 * serves its other work. A queue longer than `maxBacklog` means the server cannot keep
 * up with the publish rate: the waiting events are dropped and the connections that would have
 * got them are ended (`overflow`), to resume from their cursors.
 */
export function createFanOut<I>(
  registry: StreamRegistry<I>,
  options: { sliceMs: number; maxBacklog: number; overflow(connections: Set<OpenConnection<I>>): void },
): FanOut {
  const queue: StoredEvent[] = [];
  let head = 0;
  let round: Round<I> | null = null;
  let scheduled: ReturnType<typeof setImmediate> | undefined;
  let closed = false;

  // Events wait for the next turn rather than going out within the publish that queued them:
  // a burst then goes out in a few large rounds, and the loop that publishes it is not held.
  const schedule = () => {
    scheduled ??= setImmediate(turn);
  };

  const nextRound = (): Round<I> | null => {
    // The queue is consumed from `head`; its spent front is dropped once it is most of it.
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    const events: StoredEvent[] = [];
    const topics: string[] = [];
    // The connections of each topic as the round begins (a live set, copied below).
    const byTopic = new Map<string, ReadonlySet<OpenConnection<I>>>();
    let bytes = 0;
    while (head < queue.length && events.length < FAN_OUT_ROUND_EVENTS && (events.length === 0 || bytes < FAN_OUT_ROUND_BYTES)) {
      const event = queue[head]!;
      queue[head++] = undefined as never;
      if (!byTopic.has(event.topic)) {
        const set = registry.carrying(event.topic);
        if (!set || set.size === 0) continue;
        byTopic.set(event.topic, set);
      }
      events.push(event);
      topics.push(event.topic);
      bytes += event.data.length;
    }
    if (head === queue.length) queue.length = head = 0;
    if (events.length === 0) return null;
    const wires = events.map((event): WireText => {
      let plain: string | undefined;
      let withTopic: string | undefined;
      return (topicLine) => (topicLine ? (withTopic ??= formatEvent(event, true)) : (plain ??= formatEvent(event, false)));
    });
    if (byTopic.size === 1) return { events, wires, carriers: null, targets: [...byTopic.values().next().value!], next: 0 };
    const snapshots = new Map([...byTopic].map(([topic, set]) => [topic, new Set(set)]));
    const targets = new Set<OpenConnection<I>>();
    for (const carrying of snapshots.values()) for (const connection of carrying) targets.add(connection);
    return { events, wires, carriers: topics.map((topic) => snapshots.get(topic)!), targets: [...targets], next: 0 };
  };

  // What a turn may spend handing out events. Its writes cost Node more once the turn is over
  // (the HTTP layer sends each response's chunks in a tick after it), so the budget is the
  // slice divided by how much that multiplies a turn's own time, as measured after each turn.
  let costFactor = 1;
  const budget = () => options.sliceMs / costFactor;

  /** One turn: rounds for at most `budget()`, then the rest at the next turn. */
  const turn = () => {
    scheduled = undefined;
    if (closed) return;
    const started = performance.now();
    const limit = budget();
    const more = () => {
      const spent = performance.now() - started;
      // Queued after the ticks the turn's writes queued: it runs once they are done.
      process.nextTick(() => {
        const factor = (performance.now() - started) / Math.max(spent, 0.05);
        costFactor = Math.min(32, Math.max(1, costFactor * 0.7 + factor * 0.3));
      });
      schedule();
    };
    for (;;) {
      round ??= nextRound();
      if (!round) return;
      const { events, wires, carriers, targets } = round;
      const several = events.length > 1;
      while (round.next < targets.length) {
        const connection = targets[round.next++]!;
        if (several) connection.cork?.();
        for (let i = 0; i < events.length; i++) if (!carriers || carriers[i]!.has(connection)) connection.offer(events[i]!, wires[i]!);
        if (several) connection.uncork?.();
        if (round.next % CONNECTIONS_PER_CHECK === 0 && performance.now() - started >= limit) return more();
      }
      round = null;
      if (performance.now() - started >= limit) return more();
    }
  };

  const overflow = () => {
    const behind = new Set<OpenConnection<I>>();
    if (round) for (let i = round.next; i < round.targets.length; i++) behind.add(round.targets[i]!);
    for (let i = head; i < queue.length; i++) for (const connection of registry.carrying(queue[i]!.topic) ?? []) behind.add(connection);
    round = null;
    queue.length = head = 0;
    options.overflow(behind);
  };

  return {
    push(event) {
      if (closed || !registry.carrying(event.topic)) return;
      queue.push(event);
      if (queue.length - head > options.maxBacklog) return overflow();
      schedule();
    },
    get backlog() {
      return queue.length - head + (round ? round.events.length : 0);
    },
    close() {
      closed = true;
      if (scheduled) clearImmediate(scheduled);
      scheduled = undefined;
      round = null;
      queue.length = head = 0;
    },
  };
}

