import type { Position } from '../protocol/stream.js';
import { compareCursors } from '../protocol/wire.js';

/**
 * Orders two positions of one stream: negative when `a` is behind `b`, 0 at the same place,
 * positive ahead; NaN when they cannot be placed against each other (other lineages, or ids that
 * are not cursors on a topic stream).
 */
export function comparePositions(a: Position, b: Position, cursors: boolean): number {
  if (cursors) return a.id === b.id ? 0 : compareCursors(a.id, b.id);
  return a.lineage === b.lineage ? a.count - b.count : NaN;
}
