// A topic's name, as the server protocol allows it (README: server protocol §1). Its own module:
// the page's first download needs this check and none of the wire.

/**
 * True for a valid topic name: 1–256 characters, no control characters, well-formed Unicode. A
 * lone surrogate (half an emoji, as `.slice()` can leave it) has no UTF-8 form: a URL carries it
 * as U+FFFD, so a client would be served another topic than the one it filters on.
 */
export function isTopic(value: unknown): value is string {
  // With the u flag a surrogate pair is one code point: \p{Cs} matches only a lone half.
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value.length > 0 && value.length <= 256 && !/[\u0000-\u001f\u007f]|\p{Cs}/u.test(value);
}
