// @ts-check
/**
 * Faults injected into `/events` responses, for tests and the demo's fault buttons. A fault comes
 * from the `fault=` query parameters of one request, or from a queue filled by `POST /faults`
 * that the next matching requests consume.
 *
 * - `drop`: send `after` events (replayed + live), then destroy the socket.
 * - `stall`: send headers, then nothing at all until the client leaves.
 * - `status`: answer `status` (with `Retry-After` when given) and an empty body.
 * - `content-type`: answer 200 with a non-SSE `contentType` and a short body.
 */

/** @typedef {import('node:http').ServerResponse} ServerResponse */

export const FAULT_KINDS = Object.freeze(['drop', 'stall', 'status', 'content-type']);

/**
 * @typedef {object} Fault
 * @property {'drop' | 'stall' | 'status' | 'content-type'} kind
 * @property {number} after          drop: events to send before cutting (0 = right after headers)
 * @property {number} status         status: the status code
 * @property {number | null} retryAfter status: seconds for `Retry-After`, or none
 * @property {string} contentType    content-type: the wrong Content-Type
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
  if (Number.isNaN(after)) return { error: 'after must be a non-negative integer' };
  if (Number.isNaN(status) || status < 200 || status > 599) return { error: 'status must be 200-599' };
  if (Number.isNaN(retryAfter)) return { error: 'retryAfter must be a non-negative integer' };
  return {
    fault: {
      kind: /** @type {Fault['kind']} */ (kind),
      after,
      status,
      retryAfter: retryAfter < 0 ? null : retryAfter,
      contentType: typeof raw.contentType === 'string' && raw.contentType ? raw.contentType : 'text/plain',
    },
  };
}

/**
 * @typedef {object} QueuedFault
 * @property {Fault} fault
 * @property {string | null} stream  null = any stream
 * @property {number} remaining      requests still to be hit
 */

/**
 * @typedef {object} FaultQueue
 * @property {(fault: Fault, scope?: { stream?: string | null, times?: number }) => number} add
 *   Queue `fault` for the next `times` requests (on `stream`, or any); returns the queue length.
 * @property {(stream: string) => Fault | null} take
 *   The first queued fault for a request on `stream`, used up by one.
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

    take(stream) {
      const index = queue.findIndex((q) => q.stream === null || q.stream === stream);
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
 * Answer the faults that replace the whole response (`status`, `content-type`).
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
  return false;
}
