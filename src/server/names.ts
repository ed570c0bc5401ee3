import { isTopic } from '../protocol/topic-name.js';

/**
 * Names that decide who sees what (topics, users) must be well-formed Unicode. A lone surrogate
 * (half an emoji, as `.slice()` can leave it) has no UTF-8 form: Redis, like any store that
 * writes UTF-8, would turn every one into U+FFFD, and `room/\uD800`, `room/\uDC00` and
 * `room/\uFFFD` would become one topic. Refusing them keeps every store exact.
 */
function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/** True for a topic name of the server protocol (§1): 1–256 characters, no control characters, well-formed. */
export const isTopicName = isTopic;

/** True for a user name an event or a filter may carry: a non-empty, well-formed string. */
export function isUserName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && isWellFormed(value);
}

/**
 * Orders names by code point, as their UTF-8 bytes sort in any language (UTF-16 code units put
 * U+E000–U+FFFF after the characters beyond U+FFFF).
 */
export function compareNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    return xSurrogate === ySurrogate ? x - y : xSurrogate ? 1 : -1;
  }
  return a.length - b.length;
}
