// @ts-check
/**
 * The `/events` responses currently open, with the topics they asked for, so that the fault
 * controls can cut them like a network failure would. (Counts come from ssemux/server's stats.)
 */

/** @typedef {import('node:http').ServerResponse} ServerResponse */

/**
 * @typedef {object} OpenStreams
 * @property {(res: ServerResponse, topics: readonly string[]) => void} track
 *   Track a response until it closes (however it closes).
 * @property {(topic?: string | null) => number} dropAll
 *   Destroy every open response (carrying `topic`, when given); returns how many.
 */

/** @returns {OpenStreams} */
export function createOpenStreams() {
  /** @type {Map<ServerResponse, readonly string[]>} */
  const open = new Map();

  return {
    track(res, topics) {
      open.set(res, topics);
      res.once('close', () => open.delete(res));
    },

    dropAll(topic = null) {
      let n = 0;
      for (const [res, topics] of open) {
        if (topic !== null && !topics.includes(topic)) continue;
        res.socket?.destroy();
        n++;
      }
      return n;
    },
  };
}
