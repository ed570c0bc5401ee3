// @ts-check
/**
 * The server's memory of published events: one monotonic id counter for every stream (so ids
 * are comparable across streams), a bounded ring buffer for replay, and live subscribers per
 * stream.
 */

/**
 * @typedef {object} StoredEvent
 * @property {number} id      Server-wide monotonic id.
 * @property {string} stream  Stream name (`main` by default).
 * @property {string} type    Event type (`message` by default).
 * @property {string} data    Payload as text (objects are JSON-encoded on publish).
 * @property {string} [user]  When set (and auth is on), only this user sees the event.
 */

/**
 * @typedef {object} PublishInput
 * @property {string} [stream]
 * @property {string} [type]
 * @property {unknown} [data]
 * @property {string} [user]
 */

/** @typedef {(event: StoredEvent) => void} Subscriber */

/**
 * Who is looking: a user name when auth is on, `null` when auth is off (everyone sees all).
 * @typedef {string | null} Viewer
 */

/**
 * @param {StoredEvent} event
 * @param {Viewer} viewer
 */
export function isVisibleTo(event, viewer) {
  return viewer === null || event.user === undefined || event.user === viewer;
}

/** @param {unknown} data */
function toText(data) {
  if (data === undefined || data === null) return '';
  return typeof data === 'string' ? data : JSON.stringify(data);
}

export class EventLog {
  /** @type {(StoredEvent | undefined)[]} */
  #ring;
  #start = 0; // index of the oldest event
  #size = 0;
  #lastId = 0;
  /** @type {Map<string, Set<Subscriber>>} */
  #subscribers = new Map();

  /** @param {number} capacity Ring buffer length (at least 1). */
  constructor(capacity) {
    this.#ring = new Array(Math.max(1, Math.floor(capacity)));
  }

  /** The id of the newest event ever published (0 before the first). */
  get latestId() {
    return this.#lastId;
  }

  /** Names of streams that have at least one buffered event. */
  bufferedStreams() {
    /** @type {Set<string>} */
    const names = new Set();
    for (let i = 0; i < this.#size; i++) names.add(/** @type {StoredEvent} */ (this.#at(i)).stream);
    return names;
  }

  /**
   * Store an event and hand it to the live subscribers of its stream.
   * @param {PublishInput} input
   * @returns {StoredEvent}
   */
  append(input) {
    /** @type {StoredEvent} */
    const event = {
      id: ++this.#lastId,
      stream: input.stream || 'main',
      type: input.type || 'message',
      data: toText(input.data),
    };
    if (input.user) event.user = String(input.user);

    const capacity = this.#ring.length;
    this.#ring[(this.#start + this.#size) % capacity] = event;
    if (this.#size < capacity) this.#size++;
    else this.#start = (this.#start + 1) % capacity;

    for (const subscriber of [...(this.#subscribers.get(event.stream) ?? [])]) subscriber(event);
    return event;
  }

  /**
   * Buffered events of `stream` with an id greater than `afterId` that `viewer` may see, oldest
   * first. Events that fell out of the ring are gone (the client sees a gap).
   * @param {string} stream
   * @param {number} afterId
   * @param {Viewer} viewer
   * @returns {StoredEvent[]}
   */
  since(stream, afterId, viewer) {
    // Ids grow with position in the ring, so binary-search the first one after `afterId`.
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (/** @type {StoredEvent} */ (this.#at(mid)).id <= afterId) lo = mid + 1;
      else hi = mid;
    }
    /** @type {StoredEvent[]} */
    const out = [];
    for (let i = lo; i < this.#size; i++) {
      const event = /** @type {StoredEvent} */ (this.#at(i));
      if (event.stream === stream && isVisibleTo(event, viewer)) out.push(event);
    }
    return out;
  }

  /**
   * Receive every event published to `stream` from now on (unfiltered: callers check
   * {@link isVisibleTo}).
   * @param {string} stream
   * @param {Subscriber} subscriber
   * @returns {() => void} unsubscribe
   */
  subscribe(stream, subscriber) {
    let set = this.#subscribers.get(stream);
    if (!set) this.#subscribers.set(stream, (set = new Set()));
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.#subscribers.get(stream) === set) this.#subscribers.delete(stream);
    };
  }

  /** @param {number} i position from the oldest buffered event */
  #at(i) {
    return this.#ring[(this.#start + i) % this.#ring.length];
  }
}
