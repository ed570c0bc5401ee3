import { DENIED_EVENT, PRESENCE_EVENT, RESET_EVENT, SERVER_PROTOCOL, type ResetNotice } from '../protocol/wire.js';
import type { StoredEvent } from './event-store.js';

/**
 * The bytes of the protocol (server protocol §3): the prelude, events with and
 * without the topic line, control events (presence too), id-only blocks and the heartbeat.
 */

/** Comment that keeps a quiet connection alive. */
export const HEARTBEAT = ': hb\n\n';

/** What the body starts with: a padded comment that pushes through small buffers, and `retry:`. */
export function formatPrelude(padding: number, retryMs: number): string {
  return `: ssemux ${SERVER_PROTOCOL} ${' '.repeat(padding)}\nretry: ${retryMs}\n\n`;
}

/**
 * One event. On a topic connection the first data line is the topic. CR, LF and CRLF all end
 * a line on the wire, so each line of the data gets its own `data:` line.
 */
export function formatEvent(event: StoredEvent, withTopic: boolean): string {
  let out = `id: ${event.cursor}\n`;
  if (event.type !== 'message') out += `event: ${event.type}\n`;
  if (withTopic) out += `data: ${event.topic}\n`;
  return out + dataLines(event.data) + '\n';
}

/** `ssemux:reset`: its id is the cursor the replay continues after. */
export function formatReset(cursor: string, notice: ResetNotice): string {
  return `id: ${cursor}\nevent: ${RESET_EVENT}\ndata: ${JSON.stringify(notice)}\n\n`;
}

/** `ssemux:denied`: the selected topics the identity may not read. */
export function formatDenied(topics: readonly string[]): string {
  return `event: ${DENIED_EVENT}\ndata: ${JSON.stringify(topics)}\n\n`;
}

/**
 * `ssemux:presence` of `topic`: no `id:` (it is no position of the log), the topic as the first
 * data line, then `json`, one line (JSON text escapes every line break).
 */
export function formatPresence(topic: string, json: string): string {
  return `event: ${PRESENCE_EVENT}\ndata: ${topic}\ndata: ${json}\n\n`;
}

/** A block that moves the client's last event id and fires no event. */
export function formatIdOnly(cursor: string): string {
  return `id: ${cursor}\n\n`;
}

function dataLines(data: string): string {
  if (!/[\r\n]/.test(data)) return `data: ${data}\n`;
  let out = '';
  for (const line of data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return out;
}
