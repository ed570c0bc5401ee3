import { createConnectionSlots, type ConnectionSlots } from './connection-slots.js';
import { createDowngrades, type Downgrades } from './downgrades.js';

/**
 * What the connections of one realm share (a SharedWorker, or a page running hubs of its own):
 * the per-origin cap on open upstreams, and the transports `auto` had to move away from.
 */
export interface ConnectionScope {
  slots: ConnectionSlots;
  downgrades: Downgrades;
}

/** A realm's {@link ConnectionScope}. */
export function createConnectionScope(): ConnectionScope {
  return { slots: createConnectionSlots(), downgrades: createDowngrades() };
}
