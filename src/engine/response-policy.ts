import type { RealtimeErrorCode } from '../protocol/errors.js';
import type { StatusError } from '../protocol/types.js';

/**
 * What to do with a response's status line, before reading a byte of its body:
 * - `open`: a 200 `text/event-stream`, read it;
 * - `stop`: 204, the server says never come back;
 * - `auth`: 401, fetch fresh headers and retry;
 * - `retry`: transient (5xx, 408, 429);
 * - `fatal`: anything else, retrying cannot help.
 */
export type ResponseVerdict =
  | { action: 'open' }
  | { action: 'stop' | 'auth' | 'retry' | 'fatal'; error: StatusError };

/** MIME essence check: parameters (`;charset=utf-8`) and a stray `;` are allowed. */
export function isEventStream(contentType: string | null): boolean {
  if (!contentType) return false;
  return contentType.split(';', 1)[0]!.trim().toLowerCase() === 'text/event-stream';
}

/** Classifies a response by status and content type; see {@link ResponseVerdict}. */
export function classifyResponse(status: number, contentType: string | null): ResponseVerdict {
  const verdict = (action: 'stop' | 'auth' | 'retry' | 'fatal', code: RealtimeErrorCode, message: string): ResponseVerdict => ({
    action,
    error: { name: 'RealtimeError', code, message, status },
  });
  if (status === 200) {
    return isEventStream(contentType) ? { action: 'open' } : verdict('fatal', 'content-type', `Expected text/event-stream, got ${contentType || 'no content type'}`);
  }
  if (status === 204) return verdict('stop', 'no-content', 'The server asked not to reconnect (204)');
  if (status === 401) return verdict('auth', 'unauthorized', 'Unauthorized (401)');
  return verdict(status >= 500 || status === 408 || status === 429 ? 'retry' : 'fatal', 'http', `Server answered ${status}`);
}
