// A topic's name, as the server protocol allows it (README: server protocol §1). Its own module:
// the page's first download needs this check and none of the wire.

/** True for a valid topic name: 1–256 characters, no control characters. */
export function isTopic(value: unknown): value is string {
  // eslint-disable-next-line no-control-regex
  return typeof value === 'string' && value.length > 0 && value.length <= 256 && !/[\u0000-\u001f\u007f]/.test(value);
}
