// @ts-check
/**
 * The server's memory of published events: one monotonic id counter for every stream (so ids
 * are comparable across streams), a bounded ring buffer for replay, and live subscribers per
 * stream. A log may outlive the server that uses it (see {@link attachToLog}).
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

/**
 * @typedef {object} EventLog
 * @property {number} latestId  The id of the newest event ever appended (0 before the first).
 * @property {() => Set<string>} bufferedStreams  Names of streams with at least one buffered event.
 * @property {(input: PublishInput) => StoredEvent} append
 *   Store an event (with the next id) and hand it to the live subscribers of its stream.
 * @property {(stream: string, afterId: number, viewer: Viewer) => StoredEvent[]} since
 *   Buffered events of `stream` with an id greater than `afterId` that `viewer` may see, oldest
 *   first. Events that fell out of the ring are gone (the client sees a gap).
 * @property {(stream: string, subscriber: Subscriber) => () => void} subscribe
 *   Receive every event appended to `stream` from now on (unfiltered: callers check
 *   {@link isVisibleTo}); returns the unsubscribe function.
 * @property {(stream?: string) => number} subscriberCount  Live subscribers (of `stream`, or all).
 */

/**
 * A log that outlives any one server: pass it to `createDemoServer({ eventLog })` to keep ids and
 * history across a restart, as a server backed by durable storage would.
 * @param {number} capacity Ring buffer length (at least 1).
 * @returns {EventLog}
 */
export function createEventLog(capacity) {
  /** @type {(StoredEvent | undefined)[]} */
  const ring = new Array(Math.max(1, Math.floor(capacity)));
  let start = 0; // index of the oldest event
  let size = 0;
  let lastId = 0;
  /** @type {Map<string, Set<Subscriber>>} */
  const subscribers = new Map();

  /** @param {number} i position from the oldest buffered event */
  const at = (i) => /** @type {StoredEvent} */ (ring[(start + i) % ring.length]);

  return {
    get latestId() {
      return lastId;
    },

    bufferedStreams() {
      /** @type {Set<string>} */
      const names = new Set();
      for (let i = 0; i < size; i++) names.add(at(i).stream);
      return names;
    },

    append(input) {
      /** @type {StoredEvent} */
      const event = {
        id: ++lastId,
        stream: input.stream || 'main',
        type: input.type || 'message',
        data: toText(input.data),
      };
      if (input.user) event.user = String(input.user);

      ring[(start + size) % ring.length] = event;
      if (size < ring.length) size++;
      else start = (start + 1) % ring.length;

      for (const subscriber of [...(subscribers.get(event.stream) ?? [])]) subscriber(event);
      return event;
    },

    since(stream, afterId, viewer) {
      // Ids grow with position in the ring, so binary-search the first one after `afterId`.
      let lo = 0;
      let hi = size;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (at(mid).id <= afterId) lo = mid + 1;
        else hi = mid;
      }
      /** @type {StoredEvent[]} */
      const out = [];
      for (let i = lo; i < size; i++) {
        const event = at(i);
        if (event.stream === stream && isVisibleTo(event, viewer)) out.push(event);
      }
      return out;
    },

    subscribe(stream, subscriber) {
      let set = subscribers.get(stream);
      if (!set) subscribers.set(stream, (set = new Set()));
      set.add(subscriber);
      return () => {
        set.delete(subscriber);
        if (set.size === 0 && subscribers.get(stream) === set) subscribers.delete(stream);
      };
    },

    subscriberCount(stream) {
      if (stream !== undefined) return subscribers.get(stream)?.size ?? 0;
      let n = 0;
      for (const set of subscribers.values()) n += set.size;
      return n;
    },
  };
}

/**
 * The same log seen by one server: every subscription made through `log` is remembered, so
 * `detach()` can end them all at once when the server closes (the log itself lives on, for the
 * next server). After `detach()`, new subscriptions are refused (they receive nothing).
 * @param {EventLog} shared
 * @returns {{ log: EventLog, detach: () => void }}
 */
export function attachToLog(shared) {
  /** @type {Set<() => void>} */
  const live = new Set();
  let detached = false;
  /** @type {EventLog} */
  const log = {
    get latestId() {
      return shared.latestId;
    },
    bufferedStreams: shared.bufferedStreams,
    append: shared.append,
    since: shared.since,
    subscriberCount: shared.subscriberCount,
    subscribe(stream, subscriber) {
      if (detached) return () => {};
      const unsubscribe = shared.subscribe(stream, subscriber);
      const once = () => {
        if (!live.delete(once)) return;
        unsubscribe();
      };
      live.add(once);
      return once;
    },
  };
  const detach = () => {
    detached = true;
    for (const unsubscribe of [...live]) unsubscribe();
  };
  return { log, detach };
}
