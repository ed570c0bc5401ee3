import { isCursor } from '../protocol/wire.js';
import type { ReadReset } from './event-store.js';

/**
 * Both stores number their events `<generation>-<n>`: the generation names one log (the time
 * it was started), `n` counts its events from 1 without holes. That is what makes resets exact:
 * a cursor of another generation is from another log, and retention lost something after `n`
 * exactly when the oldest event still kept is not `n + 1`.
 */
export interface LogBounds {
  generation: string;
  /** Ordinal of the oldest event kept; `last + 1` when none is kept. */
  first: bigint;
  /** Ordinal of the newest event ever appended; 0 before the first. */
  last: bigint;
}

/** Where a read continues: after ordinal `after` of the log, and whether that is a reset. */
export interface ResumePoint {
  after: bigint;
  reset?: ReadReset | undefined;
}

/**
 * Where a read that was asked for the events after `cursor` continues in a log with `bounds`
 * (null: a log that has no event and no generation yet).
 */
export function resumePoint(cursor: string, bounds: LogBounds | null): ResumePoint {
  if (cursor === '0-0') {
    if (!bounds || bounds.first <= 1n) return { after: 0n };
    return { after: bounds.first - 1n, reset: reset('retention', bounds) };
  }
  if (!bounds) return { after: 0n, reset: { reason: 'unknown-cursor', cursor: '0-0' } };
  const dash = cursor.indexOf('-');
  const n = isCursor(cursor) ? BigInt(cursor.slice(dash + 1)) : -1n;
  if (n < 0n || cursor.slice(0, dash) !== bounds.generation || n > bounds.last) {
    return { after: bounds.first - 1n, reset: reset('unknown-cursor', bounds) };
  }
  if (n < bounds.first - 1n) return { after: bounds.first - 1n, reset: reset('retention', bounds) };
  return { after: n };
}

function reset(reason: ReadReset['reason'], bounds: LogBounds): ReadReset {
  return { reason, cursor: `${bounds.generation}-${bounds.first - 1n}` };
}
