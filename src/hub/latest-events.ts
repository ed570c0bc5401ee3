import { LATEST_TYPES } from '../protocol/limits.js';
import type { WireEvent } from '../protocol/types.js';

/** The last event of each type (and topic) of one stream; see {@link createLatestEvents}. */
export interface LatestEvents {
  /** Keeps the last event of `type` from now on (a subscriber asked for it). */
  track(type: string): void;
  /** Hot path: remembers `event` when its type is tracked. */
  put(event: WireEvent): void;
  /** The last events of `types` (of `topics`, on a topic stream), in the order they came. */
  of(types: readonly string[], topics: ReadonlySet<string> | undefined): WireEvent[];
  /** Forgets every event: the stream's position reset, and what came before may not be the latest any more. */
  clear(): void;
}

/**
 * The last event of each tracked type (and topic, on a topic stream) of a stream, for a
 * subscriber that asks to be told the current value at once. Bounded by characters: an event
 * larger than `maxChars` is not kept (and forgets the older one of its type), and the events
 * least recently replaced go first when the total passes it. Only types some subscriber asked for
 * are tracked, so a stream nobody asks costs nothing per event; at most {@link LATEST_TYPES}.
 */
export function createLatestEvents(maxChars: number): LatestEvents {
  const tracked = new Set<string>();
  /** By type and topic, least recently replaced first. */
  const kept = new Map<string, WireEvent>();
  let chars = 0;
  const size = (event: WireEvent) => event.type.length + event.data.length + event.id.length + (event.topic?.length ?? 0);
  const forget = (key: string) => {
    const old = kept.get(key);
    if (!old) return;
    chars -= size(old);
    kept.delete(key);
  };

  return {
    track(type) {
      if (tracked.size < LATEST_TYPES) tracked.add(type);
    },
    put(event) {
      if (!tracked.has(event.type) && !tracked.has('*')) return;
      const key = event.topic === undefined ? event.type : `${event.type}\n${event.topic}`;
      forget(key);
      const eventChars = size(event);
      if (eventChars > maxChars) return;
      kept.set(key, event);
      chars += eventChars;
      for (const [oldest] of kept) {
        if (chars <= maxChars) break;
        forget(oldest);
      }
    },
    of(types, topics) {
      const out: WireEvent[] = [];
      const all = types.includes('*');
      for (const event of kept.values()) if ((all || types.includes(event.type)) && (!topics || topics.has(event.topic!))) out.push(event);
      return out;
    },
    clear() {
      kept.clear();
      chars = 0;
    },
  };
}
