// The events of a frame as they cross between realms (wire-encoder.ts, wire-decoder.ts): every
// event comes back as it went, whatever its type, id, data and topic, and a stream's ids, which
// mostly differ from the one before only at their end, cost only that end.
import { describe, expect, it } from 'vitest';
import type { HubMessage } from '../../../src/protocol/tab-hub-messages.js';
import type { WireEvent } from '../../../src/protocol/types.js';
import { decodeHubMessage } from '../../../src/sharing/wire-decoder.js';
import { createWireEncoder, type WireEventsFrame } from '../../../src/sharing/wire-encoder.js';
import { random } from '../random.js';

const at = { id: '', count: 0, lineage: 'l' };
const frames = (events: WireEvent[], extra: Partial<{ one: WireEvent[]; latest: WireEvent[] }> = {}): HubMessage => ({
  kind: 'frames',
  frames: [{ sub: 1, at, events, ...extra }],
});
const roundTrip = (message: HubMessage) => decodeHubMessage(createWireEncoder()(message));
const wireOf = (message: HubMessage) => ((createWireEncoder()(message) as { frames: WireEventsFrame[] }).frames[0]!.events);

/** Text of any UTF-16 code units but CR (an SSE field never holds one): lone surrogates, pairs cut anywhere, emoji, CJK. */
function text(next: () => number, max: number): string {
  const pieces = ['a', '0', '-', ':', '\n', 'é', '注', '文', '😀', '\ud83d', '\ude00', '\udfff', '\u0000', ' ', '1796663300593584190-'];
  let out = '';
  const n = Math.floor(next() * max);
  for (let i = 0; i < n; i++) out += pieces[Math.floor(next() * pieces.length)];
  return out;
}

describe('the events wire format', () => {
  it('brings back every event as it was, over 500 random frames of ids, types, data and topics', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const next = random(seed);
      const topics = next() < 0.3;
      let id = text(next, 4);
      const events: WireEvent[] = [];
      for (let n = Math.floor(next() * 12); n > 0; n--) {
        // Often a cursor-like id: the one before with its end changed; sometimes anything, or none.
        const r = next();
        id = r < 0.6 ? id.slice(0, Math.floor(next() * (id.length + 1))) + text(next, 3) : r < 0.9 ? text(next, 6) : '';
        const event: WireEvent = { type: next() < 0.5 ? 'message' : text(next, 3) || 'x', id, data: text(next, 5) };
        if (topics) event.topic = text(next, 3) || 't';
        events.push(event);
      }
      const message = frames(events, next() < 0.3 ? { one: events.slice(1), latest: events.slice(0, 1) } : {});
      expect(roundTrip(message), `seed ${seed}`).toEqual(message);
    }
  });

  it('an id that shares its beginning with the one before costs only its end; a repeated type costs nothing', () => {
    const events = Array.from({ length: 100 }, (_, i) => ({ type: 'price', id: `1796663300593584190-${182_000 + i}`, data: `{"seq":${i}}` }));
    const wire = wireOf(frames(events));
    const plain = events.map((e) => [e.type, e.id, e.data].join('\r')).join('\r');
    // 'price' and the id's 20-character stream part once, then per event: its last digits and its data.
    expect(wire.length).toBeLessThan(plain.length * 0.55);
    expect(decodeHubMessage(createWireEncoder()(frames(events)))).toEqual(frames(events));
  });

  it('ids that shrink, grow, or end inside a surrogate pair the next one completes', () => {
    const ids = ['😀', '\ud83d', '😀x', '', '注文-1', '注文-10', '注文-9', '注', '😀😀', '😀\ude00'];
    const events = ids.map((id, i) => ({ type: i % 3 ? 'message' : 'ssemux:presence', id, data: '' }));
    expect(roundTrip(frames(events))).toEqual(frames(events));
  });
});
