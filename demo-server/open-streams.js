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

export class OpenStreams {
  /** @type {Set<OpenStream>} */
  #open = new Set();

  /**
   * Track a response until it closes (however it closes).
   * @param {OpenStream} entry
   */
  track(entry) {
    this.#open.add(entry);
    entry.res.once('close', () => this.#open.delete(entry));
  }

  /** @param {'sse' | 'long-poll'} [kind] */
  count(kind) {
    let n = 0;
    for (const entry of this.#open) if (!kind || entry.kind === kind) n++;
    return n;
  }

  /** @returns {Map<string, number>} stream → open responses */
  perStream() {
    /** @type {Map<string, number>} */
    const counts = new Map();
    for (const { stream } of this.#open) counts.set(stream, (counts.get(stream) ?? 0) + 1);
    return counts;
  }

  /**
   * Cut every open response (of `stream` when given) like a network failure.
   * @param {string | null} [stream]
   */
  dropAll(stream = null) {
    const hit = this.#select(stream);
    for (const { res } of hit) res.socket?.destroy();
    return hit.length;
  }

  /**
   * End every open response (of `stream` when given) cleanly, as a server deploy does.
   * @param {string | null} [stream]
   */
  endAll(stream = null) {
    const hit = this.#select(stream);
    for (const { res } of hit) res.end();
    return hit.length;
  }

  /** @param {string | null} stream */
  #select(stream) {
    return [...this.#open].filter((entry) => stream === null || entry.stream === stream);
  }
}
