import type { EventsFrame, Frame, HubMessage } from '../protocol/tab-hub-messages.js';
import type { WireEvent } from '../protocol/types.js';
import type { WireHubFrame, WireHubMessage } from './wire-encoder.js';

/** A hub message from its wire form; `undefined` for anything else on the same port or channel. */
export function decodeHubMessage(data: unknown): HubMessage | undefined {
  const message = data as WireHubMessage | null;
  if (typeof message !== 'object' || message === null) return undefined;
  if ('welcome' in message) {
    const { v, ...rest } = message.welcome;
    return { kind: 'welcome', protocol: v, ...rest };
  }
  if (message.kind !== 'frames') return message;
  return { kind: 'frames', frames: message.frames.map(decodeFrame) };
}

function decodeFrame(frame: WireHubFrame): Frame {
  if (!('events' in frame)) return frame;
  const { events, one, latest, ...rest } = frame;
  const decoded: EventsFrame = { ...rest, events: decodeEvents(events) };
  if (one) decoded.one = decodeEvents(one);
  if (latest) decoded.latest = decodeEvents(latest);
  return decoded;
}

function decodeEvents(encoded: string): WireEvent[] {
  const fields = encoded.split('\r');
  const events: WireEvent[] = [];
  const stride = fields[0] === '4' ? 5 : 4;
  let type = '';
  let id = '';
  for (let i = 1; i < fields.length; i += stride) {
    type = fields[i] || type;
    id = id.slice(0, +fields[i + 1]!) + fields[i + 2]!;
    const event: WireEvent = { type, data: fields[i + 3]!, id };
    if (stride === 5) event.topic = fields[i + 4]!;
    events.push(event);
  }
  return events;
}
