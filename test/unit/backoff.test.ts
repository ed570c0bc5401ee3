import { describe, expect, it } from 'vitest';
import { backoffDelay, type Backoff } from '../../src/protocol/delays.js';
import { parseRetryAfter } from '../../src/engine/retry-after.js';

const B: Backoff = { initialMs: 1000, maxMs: 30_000, factor: 2 };
const fixed = (value: number) => () => value;

describe('backoffDelay (full jitter)', () => {
  it('draws 0 when random() is 0, whatever the attempt', () => {
    for (const attempt of [1, 2, 5, 50]) expect(backoffDelay(attempt, B, fixed(0))).toBe(0);
  });

  it('draws half the ceiling for 0.5, and the ceiling doubles per attempt', () => {
    expect(backoffDelay(1, B, fixed(0.5))).toBe(500);
    expect(backoffDelay(2, B, fixed(0.5))).toBe(1000);
    expect(backoffDelay(3, B, fixed(0.5))).toBe(2000);
    expect(backoffDelay(4, B, fixed(0.5))).toBe(4000);
    expect(backoffDelay(5, B, fixed(0.5))).toBe(8000);
  });

  it('reaches (but never exceeds) the ceiling for a draw just below 1', () => {
    const nearlyOne = fixed(0.999_999_9);
    expect(backoffDelay(1, B, nearlyOne)).toBe(1000);
    expect(backoffDelay(3, B, nearlyOne)).toBe(4000);
    const d = backoffDelay(1, { initialMs: 777, maxMs: 10_000, factor: 2 }, nearlyOne);
    expect(d).toBeLessThanOrEqual(777);
    expect(d).toBeGreaterThanOrEqual(776);
  });

  it('caps the ceiling at maxMs', () => {
    expect(backoffDelay(6, B, fixed(0.5))).toBe(15_000); // 32 s ceiling capped to 30 s
    expect(backoffDelay(30, B, fixed(0.5))).toBe(15_000);
    expect(backoffDelay(1000, B, fixed(0.999_999_9))).toBe(30_000);
    const small = { initialMs: 100, maxMs: 250, factor: 2 };
    expect(backoffDelay(3, small, fixed(0.999_999_9))).toBe(250);
  });

  it('grows by the given factor', () => {
    const tripling = { initialMs: 100, maxMs: 1_000_000, factor: 3 };
    expect(backoffDelay(1, tripling, fixed(0.5))).toBe(50);
    expect(backoffDelay(2, tripling, fixed(0.5))).toBe(150);
    expect(backoffDelay(3, tripling, fixed(0.5))).toBe(450);
    expect(backoffDelay(4, tripling, fixed(0.5))).toBe(1350);
    const flat = { initialMs: 400, maxMs: 1_000_000, factor: 1 };
    expect(backoffDelay(9, flat, fixed(0.5))).toBe(200);
  });

  it('treats attempt 0 like the first attempt', () => {
    expect(backoffDelay(0, B, fixed(0.5))).toBe(500);
  });

  it('stays within [0, ceiling] with the default Math.random', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(3, B);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(4000);
      expect(Number.isInteger(d)).toBe(true);
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0);

  it('reads delay-seconds as milliseconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 7 ', now)).toBe(7000);
  });

  it('reads an HTTP date relative to the injected now', () => {
    expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 12:01:00 GMT', now)).toBe(60_000);
    // The same header read a little later means a shorter wait.
    expect(parseRetryAfter('Tue, 01 Jan 2030 12:01:00 GMT', now + 45_000)).toBe(15_000);
  });

  it('never returns a negative wait for a date in the past', () => {
    expect(parseRetryAfter(new Date(now - 60_000).toUTCString(), now)).toBe(0);
  });

  it('returns undefined when absent', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
  });

  it.each(['soon', 'abc', 'later please', '1e3', '10 s', '0x10', '1.5', '-1', '+5', '   '])(
    'returns undefined for garbage %j',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    },
  );
});
