import type { StoredEvent } from './event-store.js';
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

/** The event being handed out, and to whom. */
interface Delivery<I> {
  event: StoredEvent;
  wire: WireText;
  /** The connections of its topic when its turn came; later ones read it from the store. */
  targets: OpenConnection<I>[];
  next: number;
}

/** How many offers run between two looks at the clock. */
const OFFERS_PER_CHECK = 32;

/**
 * The fan-out of one server. One publish to thousands of connections is thousands of socket
 * writes: done in one go, a burst would hold the process for seconds. Here events wait in one
 * queue and are handed out in turns of at most `sliceMs`, each event to every connection of its
 * topic before the next event, so every connection gets its events in cursor order; between
 * turns the process serves its other work. A queue longer than `maxBacklog` means the server
 * cannot keep up with the publish rate: the waiting events are dropped and the connections that
 * would have got them are ended (`overflow`), to resume from their cursors.
 */
export function createFanOut<I>(
  registry: StreamRegistry<I>,
  options: { sliceMs: number; maxBacklog: number; overflow(connections: Set<OpenConnection<I>>): void },
): FanOut {
  const queue: StoredEvent[] = [];
  let head = 0;
  let current: Delivery<I> | null = null;
  // A turn is one task of the event loop: its budget starts with its first offer, and a turn
  // scheduled with setImmediate starts a fresh one once the loop has served everyone else.
  let turnStart = -1;
  let scheduled: ReturnType<typeof setImmediate> | undefined;
  let running = false;
  let closed = false;

  const schedule = () => {
    scheduled ??= setImmediate(() => {
      scheduled = undefined;
      turnStart = -1;
      if (current || head < queue.length) run();
    });
  };

  const take = (): Delivery<I> | null => {
    // The queue is consumed from `head`; its spent front is dropped once it is most of it.
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    while (head < queue.length) {
      const event = queue[head]!;
      queue[head++] = undefined as never;
      const set = registry.carrying(event.topic);
      if (!set || set.size === 0) continue;
      let plain: string | undefined;
      let withTopic: string | undefined;
      const wire: WireText = (topicLine) => (topicLine ? (withTopic ??= formatEvent(event, true)) : (plain ??= formatEvent(event, false)));
      return { event, wire, targets: [...set], next: 0 };
    }
    queue.length = head = 0;
    return null;
  };

  const run = () => {
    if (closed || running) return;
    if (turnStart < 0) {
      turnStart = performance.now();
      schedule(); // ends this turn
    }
    running = true;
    try {
      for (;;) {
        current ??= take();
        if (!current) return;
        const { event, wire, targets } = current;
        while (current.next < targets.length) {
          targets[current.next++]!.offer(event, wire);
          if (current.next % OFFERS_PER_CHECK === 0 && performance.now() - turnStart >= options.sliceMs) return;
        }
        current = null;
        if (performance.now() - turnStart >= options.sliceMs) return;
      }
    } finally {
      running = false;
    }
  };

  const overflow = () => {
    const behind = new Set<OpenConnection<I>>();
    if (current) for (let i = current.next; i < current.targets.length; i++) behind.add(current.targets[i]!);
    for (let i = head; i < queue.length; i++) for (const connection of registry.carrying(queue[i]!.topic) ?? []) behind.add(connection);
    current = null;
    queue.length = head = 0;
    options.overflow(behind);
  };

  return {
    push(event) {
      if (closed || !registry.carrying(event.topic)) return;
      queue.push(event);
      if (queue.length - head > options.maxBacklog) return overflow();
      // Within the turn's budget the event goes out at once; past it, at the next turn.
      if (turnStart < 0 || performance.now() - turnStart < options.sliceMs) run();
    },
    get backlog() {
      return queue.length - head + (current ? 1 : 0);
    },
    close() {
      closed = true;
      if (scheduled) clearImmediate(scheduled);
      scheduled = undefined;
      current = null;
      queue.length = head = 0;
    },
  };
}
