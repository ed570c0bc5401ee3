import { RealtimeError } from '../protocol/errors.js';

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
  | { action: 'stop' | 'auth' | 'retry' | 'fatal'; error: RealtimeError };

/** MIME essence check: parameters (`;charset=utf-8`) and a stray `;` are allowed. */
export function isEventStream(contentType: string | null): boolean {
  if (!contentType) return false;
  return contentType.split(';', 1)[0]!.trim().toLowerCase() === 'text/event-stream';
}

/** Classifies a response by status and content type; see {@link ResponseVerdict}. */
export function classifyResponse(status: number, contentType: string | null): ResponseVerdict {
  if (status === 200) {
    return isEventStream(contentType)
      ? { action: 'open' }
      : {
          action: 'fatal',
          error: new RealtimeError('content-type', `Expected text/event-stream, got ${contentType || 'no content type'}`, status),
        };
  }
  if (status === 204) return { action: 'stop', error: new RealtimeError('no-content', 'The server asked not to reconnect (204)', status) };
  if (status === 401) return { action: 'auth', error: new RealtimeError('unauthorized', 'Unauthorized (401)', status) };
  if (status >= 500 || status === 408 || status === 429) {
    return { action: 'retry', error: new RealtimeError('http', `Server answered ${status}`, status) };
  }
  return { action: 'fatal', error: new RealtimeError('http', `Server answered ${status}`, status) };
}
