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
export function isTopicName(value: unknown): value is string {
  return isTopic(value) && isWellFormed(value);
}

/** True for a user name an event or a filter may carry: a non-empty, well-formed string. */
export function isUserName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && isWellFormed(value);
}
