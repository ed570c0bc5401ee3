/**
 * The ssemux server protocol on the wire (the server protocol in the README): names and the one rule both
 * halves apply to cursors. Shared by the browser client and `ssemux/server`, so it must stay
 * free of DOM and Node APIs.
 */

/** Version of the server protocol, sent in the {@link PROTOCOL_HEADER} response header. */
export const SERVER_PROTOCOL = 1;
/** Response header naming the server protocol version; a client seeing it expects a prelude. */
export const PROTOCOL_HEADER = 'ssemux';
/** Query parameter that selects one topic; repeated for several. */
export const TOPIC_PARAM = 'topic';
/** Query parameter (and value) that asks for long-poll answers. */
export const TRANSPORT_PARAM = 'transport';
export const LONG_POLL = 'long-poll';
/** Query parameter carrying the resume cursor for clients that cannot send `Last-Event-ID`. */
export const LAST_EVENT_ID_PARAM = 'lastEventId';
/** A URL longer than this carries its topics in a POST body instead. */
export const MAX_TOPIC_URL = 2000;
/** Types of control events: never handed to listeners. */
export const CONTROL_PREFIX = 'ssemux:';
export const RESET_EVENT = 'ssemux:reset';
export const DENIED_EVENT = 'ssemux:denied';
/**
 * Who reads a topic (server protocol, presence): sent, without an `id:`, to a connection that
 * asked with {@link PRESENCE_PARAM}, the only control event handed to listeners (of this type by name).
 */
export const PRESENCE_EVENT = 'ssemux:presence';
/** Query parameter (`presence=1`) that asks for {@link PRESENCE_EVENT}s of the connection's topics. */
export const PRESENCE_PARAM = 'presence';

/** Data of a {@link RESET_EVENT}. */
export interface ResetNotice {
  from: string;
  reason: 'retention' | 'unknown-cursor';
}

const CURSOR = /^(0|[1-9]\d*)-(0|[1-9]\d*)$/;

/** True for a cursor of the protocol: `<a>-<b>`, two decimal integers. */
export function isCursor(value: string): boolean {
  return CURSOR.test(value);
}

/**
 * Orders two cursors: negative when `a` comes first, 0 when equal, positive when `b` does;
 * `NaN` when either is not a cursor. Parts are compared as numbers without arithmetic on
 * them (they may exceed 2^53): by length, then as text.
 */
export function compareCursors(a: string, b: string): number {
  const x = CURSOR.exec(a);
  const y = CURSOR.exec(b);
  if (!x || !y) return NaN;
  return comparePart(x[1]!, y[1]!) || comparePart(x[2]!, y[2]!);
}

function comparePart(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
