import type { EventsFrame, Frame, HubMessage, StatusFrame, TabsFrame, Welcome } from '../protocol/tab-hub-messages.js';
import type { WireEvent } from '../protocol/types.js';

/**
 * A {@link HubMessage} as it crosses to another realm (a worker's port, a leader's channel). Two
 * members change shape at this edge, the rest travel as they are:
 * - `frames`: each array of events (`events`, `one`, `latest`) becomes one string (see
 *   {@link createWireEncoder}), which every tab's message copies, rather than being cloned object
 *   by object for each tab (./wire-decoder.ts reads it back);
 * - the welcome keeps the one shape every release has read, `{ welcome: { v } }`, so that a tab
 *   and a hub of different protocol versions still tell each other apart.
 */
export type WireHubMessage =
  | { welcome: { v: number; lifeLock?: string; pingMs?: number } }
  | { kind: 'frames'; frames: WireHubFrame[] }
  | Exclude<HubMessage, Welcome | { kind: 'frames' }>;

/** A frame on the wire. */
export type WireHubFrame = StatusFrame | TabsFrame | WireEventsFrame;

/** An events frame on the wire: each array of events as one string. */
export type WireEventsFrame = Omit<EventsFrame, 'events' | 'one' | 'latest'> & { events: string; one?: string; latest?: string };

/**
 * Turns hub messages into their wire form. Its memory of encoded arrays spans every tab it
 * serves: subscriptions with the same filter get the same array in one flush, serialized once.
 *
 * The events format: fields joined by CR, first `3` then four per event: its type (empty when
 * it is the type of the event before: no event's type is empty), how many UTF-16 code units its
 * id shares with the id before (the first event's "before" is the empty id), the rest of its id,
 * and its data; or `4`, and a fifth field, the topic (a topic stream). A stream's ids mostly
 * differ from the one before only at their end (the ssemux server's cursors share their first
 * part, 20 characters with its dash on the demo server): an event costs every tab's message its
 * id's end, not all of it; with the type said once, about 40% of a small event's bytes. No field
 * of an event can hold a CR (the SSE parser ends a line at one), so nothing needs escaping, and
 * splitting costs a fraction of parsing JSON.
 */
export function createWireEncoder(): (message: HubMessage) => WireHubMessage {
  const encoded = new WeakMap<WireEvent[], string>();
  const encode = (events: WireEvent[]): string => {
    let text = encoded.get(events);
    if (text === undefined) {
      const topics = events[0]?.topic !== undefined;
      const fields: string[] = [topics ? '4' : '3'];
      let type = '';
      let id = '';
      for (const event of events) {
        let same = 0;
        const max = Math.min(id.length, event.id.length);
        while (same < max && id.charCodeAt(same) === event.id.charCodeAt(same)) same++;
        fields.push(event.type === type ? '' : event.type, String(same), event.id.slice(same), event.data);
        if (topics) fields.push(event.topic!);
        type = event.type;
        id = event.id;
      }
      encoded.set(events, (text = fields.join('\r')));
    }
    return text;
  };
  const encodeFrame = (frame: Frame): WireHubFrame => {
    if (!('events' in frame)) return frame;
    const { events, one, latest, ...rest } = frame;
    const wire: WireEventsFrame = { ...rest, events: encode(events) };
    if (one) wire.one = encode(one);
    if (latest) wire.latest = encode(latest);
    return wire;
  };
  return (message) => {
    if (message.kind === 'welcome') {
      const { kind: _, protocol, ...rest } = message;
      return { welcome: { v: protocol, ...rest } };
    }
    if (message.kind !== 'frames') return message;
    return { kind: 'frames', frames: message.frames.map(encodeFrame) };
  };
}

