import type { StreamSpec } from '../protocol/stream.js';

/** Identity of a stream: two specs with the same key share one upstream. */
export function streamKey(spec: StreamSpec): string {
  const { headers: _headers, ...shape } = spec;
  return JSON.stringify(Object.entries(shape).sort(([a], [b]) => (a < b ? -1 : 1)));
}
