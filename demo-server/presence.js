// @ts-check
/**
 * Which tabs are open, from their `POST /presence` pings: a tab counts while its last ping is
 * younger than `windowMs`.
 */

export const PRESENCE_WINDOW_MS = 10_000;

export class Presence {
  /** @type {Map<string, number>} tab id → last ping time */
  #lastSeen = new Map();
  #windowMs;

  constructor(windowMs = PRESENCE_WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  /** @param {string} tabId */
  touch(tabId, now = Date.now()) {
    this.#lastSeen.set(tabId, now);
  }

  /** @param {string} tabId */
  leave(tabId) {
    this.#lastSeen.delete(tabId);
  }

  /** Tabs seen within the window (forgets the others). */
  count(now = Date.now()) {
    for (const [tabId, seen] of this.#lastSeen) {
      if (now - seen > this.#windowMs) this.#lastSeen.delete(tabId);
    }
    return this.#lastSeen.size;
  }
}
