// @ts-check
/**
 * Faults injected into `/events` responses, for tests and the demo's fault buttons. A fault comes
 * from the `fault=` query parameters of one request, or from a queue filled by `POST /faults`
 * that the next matching requests consume. They are applied around ssemux/server's handler, not
 * inside it: `status` and `content-type` answer instead of it, `drop` and `stall` wrap the
 * response it writes to.
 *
 * - `drop`: send `after` events (replayed + live), then destroy the socket.
 * - `stall`: send headers, then nothing at all until the client leaves.
 * - `status`: answer `status` (with `Retry-After` when given) and an empty body.
 * - `content-type`: answer 200 with a non-SSE `contentType` and a short body.
 * - `end`: answer 200 `text/event-stream` with only `retry: <retry>` (when given) and end at once,
 *   as a server that rotates connections too eagerly does.
 */

/** @typedef {import('node:http').ServerResponse} ServerResponse */

export const FAULT_KINDS = Object.freeze(['drop', 'stall', 'status', 'content-type', 'end']);

/**
 * @typedef {object} Fault
 * @property {'drop' | 'stall' | 'status' | 'content-type' | 'end'} kind
 * @property {number} after          drop: events to send before cutting (0 = right after headers)
 * @property {number} status         status: the status code
 * @property {number | null} retryAfter status: seconds for `Retry-After`, or none
 * @property {string} contentType    content-type: the wrong Content-Type
 * @property {number | null} retry    end: the `retry:` value to send, or none
 */

/** @param {unknown} value @param {number} fallback */
function int(value, fallback) {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

/**
 * Validate a fault description (a JSON body or query parameters).
 * @param {Record<string, unknown>} raw
 * @returns {{ fault: Fault } | { error: string }}
 */
export function parseFault(raw) {
  const kind = raw.kind ?? raw.fault;
  if (typeof kind !== 'string' || !FAULT_KINDS.includes(kind)) {
    return { error: `kind must be one of ${FAULT_KINDS.join(', ')}` };
  }
  const after = int(raw.after, 0);
  const status = int(raw.status, 503);
  const retryAfter = int(raw.retryAfter, -1);
  const retry = int(raw.retry, -1);
  if (Number.isNaN(after)) return { error: 'after must be a non-negative integer' };
  if (Number.isNaN(status) || status < 200 || status > 599) return { error: 'status must be 200-599' };
  if (Number.isNaN(retryAfter)) return { error: 'retryAfter must be a non-negative integer' };
  if (Number.isNaN(retry)) return { error: 'retry must be a non-negative integer' };
  return {
    fault: {
      kind: /** @type {Fault['kind']} */ (kind),
      after,
      status,
      retryAfter: retryAfter < 0 ? null : retryAfter,
      contentType: typeof raw.contentType === 'string' && raw.contentType ? raw.contentType : 'text/plain',
      retry: retry < 0 ? null : retry,
    },
  };
}

/**
 * @typedef {object} QueuedFault
 * @property {Fault} fault
 * @property {string | null} stream  a topic the request must carry; null = any request
 * @property {number} remaining      requests still to be hit
 */

/**
 * @typedef {object} FaultQueue
 * @property {(fault: Fault, scope?: { stream?: string | null, times?: number }) => number} add
 *   Queue `fault` for the next `times` requests (on `stream`, or any); returns the queue length.
 * @property {(topics: readonly string[]) => Fault | null} take
 *   The first queued fault for a request carrying `topics`, used up by one.
 * @property {() => number} clear  Empty the queue; returns how many entries it held.
 * @property {number} size  Entries in the queue.
 */

/** @returns {FaultQueue} */
export function createFaultQueue() {
  /** @type {QueuedFault[]} */
  let queue = [];

  return {
    add(fault, { stream = null, times = 1 } = {}) {
      queue.push({ fault, stream, remaining: Math.max(1, Math.floor(times)) });
      return queue.length;
    },

    take(topics) {
      const index = queue.findIndex((q) => q.stream === null || topics.includes(q.stream));
      const entry = queue[index];
      if (!entry) return null;
      if (--entry.remaining === 0) queue.splice(index, 1);
      return entry.fault;
    },

    clear() {
      const n = queue.length;
      queue = [];
      return n;
    },

    get size() {
      return queue.length;
    },
  };
}

/**
 * Answer the faults that replace the whole response (`status`, `content-type`, `end`).
 * @param {ServerResponse} res
 * @param {Fault} fault
 * @returns {boolean} true when the response was answered
 */
export function answerWithFault(res, fault) {
  if (fault.kind === 'status') {
    /** @type {Record<string, string>} */
    const headers = { 'Cache-Control': 'no-cache' };
    if (fault.retryAfter !== null) headers['Retry-After'] = String(fault.retryAfter);
    res.writeHead(fault.status, headers);
    res.end();
    return true;
  }
  if (fault.kind === 'content-type') {
    res.writeHead(200, { 'Content-Type': fault.contentType, 'Cache-Control': 'no-cache' });
    res.end('This is not an event stream.\n');
    return true;
  }
  if (fault.kind === 'end') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.end(fault.retry === null ? '' : `retry: ${fault.retry}\n\n`);
    return true;
  }
  return false;
}

/**
 * Makes a streaming response misbehave while the library writes it: `stall` lets the headers
 * out and swallows every byte of body; `drop` lets `after` events through (replayed and live,
 * control events not counted) and then destroys the socket, so the client sees a network error
 * rather than a clean end.
 * @param {ServerResponse} res
 * @param {Fault} fault
 */
export function applyStreamFault(res, fault) {
  const target = /** @type {{ write: (chunk: unknown, ...rest: unknown[]) => boolean, end: (...args: unknown[]) => unknown }} */ (
    /** @type {unknown} */ (res)
  );
  if (fault.kind === 'stall') {
    target.write = () => true;
    return;
  }
  if (fault.kind !== 'drop') return;
  const write = res.write.bind(res);
  let seen = 0;
  let unterminated = ''; // the written text after the last blank line
  let cut = false;
  /** @param {string} text the last bytes to let through */
  const cutAfter = (text) => {
    cut = true;
    // A clean end of the body must not overtake the cut.
    target.end = () => res;
    const socket = res.socket;
    // The callback runs once these bytes (and the headers before them) are handed to the socket.
    if (text) write(text, () => socket?.destroy());
    else socket?.write('', () => socket.destroy());
  };
  target.write = (chunk, ...rest) => {
    if (cut) return false;
    if (fault.after === 0) return cutAfter(''), false;
    const text = String(chunk);
    const all = unterminated + text;
    let from = 0;
    for (let end = all.indexOf('\n\n'); end !== -1; end = all.indexOf('\n\n', from)) {
      const block = all.slice(from, end);
      from = end + 2;
      if (/^data:/m.test(block) && !/^event: ssemux:/m.test(block) && ++seen >= fault.after) {
        cutAfter(text.slice(0, from - unterminated.length));
        return false;
      }
    }
    unterminated = all.slice(from);
    return write(/** @type {string} */ (chunk), .../** @type {[]} */ (rest));
  };
}
