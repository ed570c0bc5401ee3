import type { Frame, WireFrame } from '../protocol/messages.js';
import type { WireEvent } from '../protocol/types.js';

/**
 * Each array of events as its wire string, for the flush under way: subscriptions with the same
 * filter share one array (src/hub/hub.ts), so every tab's copy of it is serialized once.
 */
const encoded = new WeakMap<WireEvent[], string>();

/**
 * Frames for another realm: each array of events becomes one string, its fields joined by CR:
 * `3`, then type, id and data per event; or `4`, then type, id, data and topic (a topic stream).
 * No field of an event can hold a CR (the SSE parser ends a line at one), so nothing needs
 * escaping. Copying a string into each tab's message costs a fraction of cloning its events one
 * object at a time, and splitting it a fraction of parsing JSON.
 */
export function encodeFrames(frames: Frame[]): WireFrame[] {
  return frames.map((frame) => ('status' in frame ? frame : { sub: frame.sub, e: encodeEvents(frame.events), at: frame.at }));
}

function encodeEvents(events: WireEvent[]): string {
  let text = encoded.get(events);
  if (text === undefined) {
    const topics = events[0]?.topic !== undefined;
    const fields: string[] = [topics ? '4' : '3'];
    for (const { type, id, data, topic } of events) topics ? fields.push(type, id, data, topic!) : fields.push(type, id, data);
    encoded.set(events, (text = fields.join('\r')));
  }
  return text;
}
