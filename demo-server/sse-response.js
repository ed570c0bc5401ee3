// @ts-check
/**
 * Writing Server-Sent Events: response headers, the wire format of one event, and a writer
 * that counts sent events (and cuts the connection for the `drop` fault).
 */

/** @typedef {import('node:http').ServerResponse} ServerResponse */
/** @typedef {import('./event-log.js').StoredEvent} StoredEvent */

export const SSE_HEADERS = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
});

/**
 * Send the 200 status and SSE headers now: the client counts headers as a sign of life.
 * @param {ServerResponse} res
 */
export function startEventStream(res) {
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  res.socket?.setNoDelay(true);
}

/**
 * `id:`, `event:` (omitted for `message`), one `data:` line per line of data, blank line.
 * @param {StoredEvent} event
 */
export function formatEvent(event) {
  let out = `id: ${event.id}\n`;
  const type = event.type.replace(/[\r\n]/g, '');
  if (type !== 'message') out += `event: ${type}\n`;
  // CR, LF and CRLF all end a line on the wire, so each becomes a separate data: line.
  for (const line of event.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out + '\n';
}

/** @param {number} ms */
export const formatRetry = (ms) => `retry: ${Math.max(0, Math.floor(ms))}\n\n`;

/** @param {string} text */
export const formatComment = (text) => `: ${text.replace(/[\r\n]/g, ' ')}\n\n`;

/**
 * A block that only moves the client's last event id (fires no event).
 * @param {number} id
 */
export const formatIdOnly = (id) => `id: ${id}\n\n`;

/**
 * Cut the connection abruptly once `chunk` (if any) and everything written before it has left,
 * so the client sees a network error, not a clean end of body.
 * @param {ServerResponse} res
 * @param {string} [chunk]
 */
export function destroyAfter(res, chunk = '') {
  const socket = res.socket;
  if (!socket) return;
  const destroy = () => socket.destroy();
  // A write callback runs once the bytes (and the headers queued before them) are handed off.
  if (chunk) res.write(chunk, destroy);
  else socket.write('', destroy);
}

/**
 * @typedef {object} EventWriter
 * @property {(event: StoredEvent) => boolean} send
 *   Write one event; false when it was not sent or the connection is now being dropped.
 */

/**
 * Writes events to one response, counting them, and applies a `drop` fault: after `dropAfter`
 * events the socket is destroyed and further sends are refused.
 * @param {ServerResponse} res
 * @param {{ dropAfter?: number | null, onSent?: () => void }} [options]
 * @returns {EventWriter}
 */
export function createEventWriter(res, { dropAfter = null, onSent = () => {} } = {}) {
  let sent = 0;
  let closed = false;

  return {
    send(event) {
      if (closed || res.writableEnded || res.destroyed) return false;
      sent++;
      onSent();
      if (dropAfter !== null && sent >= dropAfter) {
        closed = true;
        destroyAfter(res, formatEvent(event));
        return false;
      }
      res.write(formatEvent(event));
      return true;
    },
  };
}
