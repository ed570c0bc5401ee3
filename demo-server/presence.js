// @ts-check
/**
 * Which tabs are open, from their `POST /presence` pings: a tab counts while its last ping is
 * younger than `windowMs`.
 */

export const PRESENCE_WINDOW_MS = 10_000;

/**
 * @typedef {object} Presence
 * @property {(tabId: string, now?: number) => void} touch  Record a ping from `tabId`.
 * @property {(tabId: string) => void} leave  Forget `tabId` (the tab said it is closing).
 * @property {(now?: number) => number} count  Tabs seen within the window (forgets the others).
 */

/** @returns {Presence} */
export function createPresence(windowMs = PRESENCE_WINDOW_MS) {
  /** @type {Map<string, number>} tab id → last ping time */
  const lastSeen = new Map();

  return {
    touch(tabId, now = Date.now()) {
      lastSeen.set(tabId, now);
    },

    leave(tabId) {
      lastSeen.delete(tabId);
    },

    count(now = Date.now()) {
      for (const [tabId, seen] of lastSeen) {
        if (now - seen > windowMs) lastSeen.delete(tabId);
      }
      return lastSeen.size;
    },
  };
}
