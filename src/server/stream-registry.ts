import type { StoredEvent } from './event-store.js';

/** The wire text of one event, formatted once however many connections take it. */
export type WireText = (withTopic: boolean) => string;

/** An open `/events` response as the registry sees it. */
export interface OpenConnection<I> {
  readonly kind: 'sse' | 'long-poll';
  readonly identity: I;
  /** The topics it carries (the allowed part of its selection). */
  readonly topics: readonly string[];
  /** A live event of one of its topics. */
  offer(event: StoredEvent, wire: WireText): void;
  /** Several offers follow: hold the writes until `uncork`, to send them as one. */
  cork?(): void;
  uncork?(): void;
  /** Called every half heartbeat interval; writes a heartbeat when it has been quiet. */
  heartbeat?(): void;
  /** Ends the response cleanly (the client reconnects and resumes). */
  end(): void;
}

/** Open connections by topic: who gets a topic's live events, heartbeats, counts. */
export interface StreamRegistry<I> {
  add(connection: OpenConnection<I>): void;
  remove(connection: OpenConnection<I>): void;
  /** The open connections that carry `topic` (a live view: copy it before yielding). */
  carrying(topic: string): ReadonlySet<OpenConnection<I>> | undefined;
  /** Connections that `select` picks (all without it). */
  list(select?: (connection: OpenConnection<I>) => boolean): OpenConnection<I>[];
  count(kind?: OpenConnection<I>['kind']): number;
  /** Open connections per topic. */
  perTopic(): Record<string, number>;
  /** Stops the heartbeat timer; connections must have been ended. */
  close(): void;
}

/** The registry of one server; its heartbeat timer runs while some connection needs it. */
export function createStreamRegistry<I>(heartbeatMs: number): StreamRegistry<I> {
  const all = new Set<OpenConnection<I>>();
  const byTopic = new Map<string, Set<OpenConnection<I>>>();
  // One timer for every stream; it runs only while some stream needs heartbeats. Ticking
  // every half interval keeps each stream's silence under one full interval.
  let heartbeats = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    for (const connection of all) connection.heartbeat?.();
  };

  return {
    add(connection) {
      all.add(connection);
      for (const topic of connection.topics) {
        let set = byTopic.get(topic);
        if (!set) byTopic.set(topic, (set = new Set()));
        set.add(connection);
      }
      if (connection.heartbeat && heartbeats++ === 0) timer = setInterval(tick, Math.max(1, Math.floor(heartbeatMs / 2)));
    },

    remove(connection) {
      if (!all.delete(connection)) return;
      for (const topic of connection.topics) {
        const set = byTopic.get(topic);
        set?.delete(connection);
        if (set?.size === 0) byTopic.delete(topic);
      }
      if (connection.heartbeat && --heartbeats === 0) clearInterval(timer);
    },

    carrying(topic) {
      return byTopic.get(topic);
    },

    list(select) {
      return [...all].filter((connection) => !select || select(connection));
    },

    count(kind) {
      if (!kind) return all.size;
      let n = 0;
      for (const connection of all) if (connection.kind === kind) n++;
      return n;
    },

    perTopic() {
      // Own properties, whatever the name: assigning counts['__proto__'] would set the prototype.
      return Object.fromEntries([...byTopic].map(([topic, set]) => [topic, set.size]));
    },

    close() {
      clearInterval(timer);
      heartbeats = 0;
    },
  };
}
