import type { ServerResponse } from 'node:http';
import { PROTOCOL_HEADER, SERVER_PROTOCOL } from '../protocol/wire.js';
import { formatPrelude } from './sse-format.js';

/** Headers of every `200` stream and long-poll answer. */
export const EVENT_STREAM_HEADERS = Object.freeze({
  'Content-Type': 'text/event-stream',
  // no-transform: a proxy that compresses would also buffer.
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
  [PROTOCOL_HEADER]: String(SERVER_PROTOCOL),
});

/**
 * Sends the status, the headers and the prelude now: the client takes them as the sign that
 * the stream is open, and the prelude as the sign that nothing on the way buffers it.
 */
export function startEventStream(res: ServerResponse, padding: number, retryMs: number): void {
  res.writeHead(200, EVENT_STREAM_HEADERS);
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  res.write(formatPrelude(padding, retryMs));
}

/**
 * Resolves once the response has room again. A client that reads nothing for `timeoutMs` is
 * cut: the response is destroyed (the client resumes from its last event). Resolves false when
 * the response is gone, either way.
 */
export function drained(res: ServerResponse, timeoutMs: number): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (!res.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      resolve(!res.destroyed);
    };
    const timer = setTimeout(() => {
      res.destroy();
      done();
    }, timeoutMs);
    res.on('drain', done);
    res.on('close', done);
  });
}

/** A short answer that is not a stream (`204`, `400`, `401`, …). */
export function answer(res: ServerResponse, status: number, error?: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const body = error === undefined || status === 204 ? '' : JSON.stringify({ error });
  res.writeHead(status, { 'Cache-Control': 'no-store', ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers });
  res.end(body);
}
