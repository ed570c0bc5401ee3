import { CATCH_UP_ENTRY_CHARS } from '../protocol/limits.js';
import type { Position } from '../protocol/stream.js';
import type { WireEvent } from '../protocol/types.js';
import { comparePositions } from './compare-positions.js';

/**
 * The recent events of one stream, bounded by characters (not count: a few large events must
 * not hold megabytes), so that a subscriber that comes back a little behind (a page restored from
 * the back/forward cache, a tab whose last delivery a dying hub never sent) catches up without
 * a new request. It covers the positions after {@link CatchUpRing.from}; an event without an id
 * clears it, since nothing could resume there anyway.
 */
export interface CatchUpRing {
  /** The position just before the oldest event kept: the ring covers everything after it. */
  readonly from: Position;
  /** Hot path: remembers `event`, the `count`th of the lineage (see {@link Position}). */
  push(event: WireEvent, count: number): void;
  /** Forgets everything; the ring covers what comes after `at`. */
  clear(at: Position): void;
  /** The stream moved to `at` without an event (an id-only block): an empty ring now starts there. */
  moved(at: Position): void;
  /** The events after `position`, oldest first, or undefined when the ring does not reach back to it. */
  after(position: Position, cursors: boolean): WireEvent[] | undefined;
  /** The events after the one whose id is `id` (the newest such), or undefined. */
  afterId(id: string): { events: WireEvent[]; at: Position } | undefined;
}

interface Entry {
  event: WireEvent;
  /** Its number in the lineage. */
  count: number;
  /** Characters it holds in the ring. */
  size: number;
}

/** See {@link CatchUpRing}. `maxChars` 0 keeps nothing (a hub that no one comes back to). */
export function createCatchUpRing(maxChars: number, start: Position): CatchUpRing {
  /** Kept entries from `head` on; slots before it are emptied at once, so evicted events are freed. */
  let entries: (Entry | undefined)[] = [];
  let head = 0;
  let chars = 0;
  let from = { ...start };
  const at = (e: Entry): Position => ({ id: e.event.id, count: e.count, lineage: from.lineage });
  const tail = (i: number) => entries.slice(i).map((e) => e!.event);

  function clear(position: Position): void {
    if (chars > 0) {
      entries = [];
      head = chars = 0;
    }
    // A copy: the stream moves its own position in place.
    from = { ...position };
  }

  return {
    get from() {
      return from;
    },
    push(event, count) {
      if (maxChars <= 0 || event.id === '') return clear({ id: event.id, count, lineage: from.lineage });
      const size = event.data.length + event.type.length + event.id.length + CATCH_UP_ENTRY_CHARS;
      entries.push({ event, count, size });
      chars += size;
      while (chars > maxChars && head < entries.length) {
        const old = entries[head]!;
        entries[head++] = undefined;
        chars -= old.size;
        from = at(old);
      }
      // Drop the emptied prefix now and then, not at every eviction.
      if (head > 64 && head * 2 > entries.length) {
        entries = entries.slice(head);
        head = 0;
      }
    },
    clear,
    moved(position) {
      if (chars === 0) from = { ...position };
    },
    after(position, cursors) {
      if (!(comparePositions(position, from, cursors) >= 0)) return undefined;
      let i = entries.length;
      while (i > head && comparePositions(at(entries[i - 1]!), position, cursors) > 0) i--;
      return tail(i);
    },
    afterId(id) {
      for (let i = entries.length - 1; i >= head; i--) {
        if (entries[i]!.event.id === id) return { events: tail(i + 1), at: at(entries[entries.length - 1]!) };
      }
      return undefined;
    },
  };
}
