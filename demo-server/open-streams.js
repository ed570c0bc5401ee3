// @ts-check
/**
 * The `/events` responses currently open (SSE streams, stalled streams, held long-polls), for
 * /stats and for the drop-all / restart controls.
 */

/** @typedef {import('node:http').ServerResponse} ServerResponse */

/**
 * @typedef {object} OpenStream
 * @property {ServerResponse} res
 * @property {string} stream
 * @property {'sse' | 'long-poll'} kind
 */

/**
 * @typedef {object} OpenStreams
 * @property {(entry: OpenStream) => void} track  Track a response until it closes (however it closes).
 * @property {(kind?: 'sse' | 'long-poll') => number} count  Open responses (of `kind` when given).
 * @property {() => Map<string, number>} perStream  stream → open responses
 * @property {(stream?: string | null) => number} dropAll
 *   Cut every open response (of `stream` when given) like a network failure; returns how many.
 * @property {(stream?: string | null) => number} endAll
 *   End every open response (of `stream` when given) cleanly, as a server deploy does; returns how many.
 */

/** @returns {OpenStreams} */
export function createOpenStreams() {
  /** @type {Set<OpenStream>} */
  const open = new Set();

  /** @param {string | null} stream */
  const select = (stream) => [...open].filter((entry) => stream === null || entry.stream === stream);

  return {
    track(entry) {
      open.add(entry);
      entry.res.once('close', () => open.delete(entry));
    },

    count(kind) {
      let n = 0;
      for (const entry of open) if (!kind || entry.kind === kind) n++;
      return n;
    },

    perStream() {
      /** @type {Map<string, number>} */
      const counts = new Map();
      for (const { stream } of open) counts.set(stream, (counts.get(stream) ?? 0) + 1);
      return counts;
    },

    dropAll(stream = null) {
      const hit = select(stream);
      for (const { res } of hit) res.socket?.destroy();
      return hit.length;
    },

    endAll(stream = null) {
      const hit = select(stream);
      for (const { res } of hit) res.end();
      return hit.length;
    },
  };
}
