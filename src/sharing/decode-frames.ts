import type { Frame, WireFrame } from '../protocol/messages.js';
import type { WireEvent } from '../protocol/types.js';

/** The frames a hub in another realm sent (the format: ./encode-frames.ts). */
export function decodeFrames(frames: WireFrame[]): Frame[] {
  return frames.map((frame) => {
    if ('status' in frame) return frame;
    const fields = frame.e.split('\r');
    const events: WireEvent[] = [];
    const stride = fields[0] === '4' ? 4 : 3;
    for (let i = 1; i < fields.length; i += stride) {
      const event: WireEvent = { type: fields[i]!, data: fields[i + 2]!, id: fields[i + 1]! };
      if (stride === 4) event.topic = fields[i + 3]!;
      events.push(event);
    }
    return { sub: frame.sub, events, at: frame.at };
  });
}
