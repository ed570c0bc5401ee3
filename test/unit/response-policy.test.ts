import { describe, expect, it } from 'vitest';
import { isRealtimeError } from '../../src/protocol/errors.js';
import { classifyResponse, isEventStream } from '../../src/engine/response-policy.js';

describe('classifyResponse', () => {
  it.each([
    'text/event-stream',
    'text/event-stream;charset=utf-8',
    'text/event-stream; charset=UTF-8',
    'text/event-stream;',
    'TEXT/EVENT-STREAM',
    'Text/Event-Stream; charset=iso-8859-1',
    ' text/event-stream ',
  ])('opens a 200 with content type %j', (type) => {
    expect(classifyResponse(200, type)).toEqual({ action: 'open' });
    expect(isEventStream(type)).toBe(true);
  });

  it.each([['text/plain'], ['application/json'], ['text/event-streams'], ['text/html; x=text/event-stream'], [''], [null]])(
    'fails a 200 with content type %j as fatal content-type, keeping the status',
    (type) => {
      const verdict = classifyResponse(200, type);
      expect(verdict.action).toBe('fatal');
      if (verdict.action === 'open') return;
      expect(isRealtimeError(verdict.error)).toBe(true);
      expect(verdict.error).toMatchObject({ name: 'RealtimeError', code: 'content-type', status: 200 });
      expect(structuredClone(verdict.error)).toEqual(verdict.error);
    },
  );

  it('names the wrong content type in the message', () => {
    const verdict = classifyResponse(200, 'text/plain');
    expect(verdict.action !== 'open' && verdict.error.message).toContain('text/plain');
  });

  it('stops on 204 with code no-content', () => {
    const verdict = classifyResponse(204, null);
    expect(verdict.action).toBe('stop');
    if (verdict.action === 'open') return;
    expect(verdict.error.code).toBe('no-content');
    expect(verdict.error.status).toBe(204);
  });

  it('asks for credentials on 401', () => {
    const verdict = classifyResponse(401, 'text/event-stream');
    expect(verdict.action).toBe('auth');
    if (verdict.action === 'open') return;
    expect(verdict.error.code).toBe('unauthorized');
    expect(verdict.error.status).toBe(401);
  });

  it.each([500, 502, 503, 504, 599, 408, 429])('retries %i with code http and the status', (status) => {
    const verdict = classifyResponse(status, 'text/event-stream');
    expect(verdict.action).toBe('retry');
    if (verdict.action === 'open') return;
    expect(verdict.error.code).toBe('http');
    expect(verdict.error.status).toBe(status);
    expect(verdict.error.message).toContain(String(status));
  });

  it.each([400, 402, 403, 404, 405, 410, 418, 451])('gives up on %i (fatal http)', (status) => {
    const verdict = classifyResponse(status, 'text/event-stream');
    expect(verdict.action).toBe('fatal');
    if (verdict.action === 'open') return;
    expect(verdict.error.code).toBe('http');
    expect(verdict.error.status).toBe(status);
  });

  it('does not open a non-200 success even with the right content type', () => {
    expect(classifyResponse(201, 'text/event-stream').action).toBe('fatal');
    expect(classifyResponse(206, 'text/event-stream').action).toBe('fatal');
  });
});
