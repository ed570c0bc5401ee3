import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFlushScheduler } from '../../src/hub/flush-scheduler.js';

beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
afterEach(() => vi.useRealTimers());

/** A scheduler whose "after the current task" runs when the test says, and whose flushes take `cost` ms of the fake clock. */
function scheduler(gap: (lastFlushMs: number) => number) {
  const tasks: (() => void)[] = [];
  const asked: number[] = [];
  let flushes = 0;
  let cost = 0;
  const s = createFlushScheduler(
    () => {
      flushes++;
      vi.advanceTimersByTime(cost);
    },
    (run) => tasks.push(run),
    (ms) => {
      asked.push(ms);
      return gap(ms);
    },
  );
  return {
    s,
    asked,
    flushes: () => flushes,
    costs: (ms: number) => (cost = ms),
    endTask: () => tasks.splice(0).forEach((run) => run()),
  };
}

describe('createFlushScheduler', () => {
  it('hands the gap how long the last flush took: a costly flush spaces the next, a cheap one does not', () => {
    const t = scheduler((ms) => ms * 3);
    t.costs(2);
    t.s.request();
    t.endTask();
    expect(t.flushes()).toBe(1);
    expect(t.asked).toEqual([0]);
    // The flush took 2 ms: the next waits until 6 ms after it began, whatever the tasks.
    t.costs(0);
    t.s.request();
    t.s.request();
    expect(t.asked).toEqual([0, 2]);
    t.endTask();
    expect(t.flushes()).toBe(1);
    vi.advanceTimersByTime(3);
    expect(t.flushes()).toBe(1);
    vi.advanceTimersByTime(1);
    expect(t.flushes()).toBe(2);
    // That one took no time: the next goes after the current task.
    t.s.request();
    expect(t.asked).toEqual([0, 2, 0]);
    t.endTask();
    expect(t.flushes()).toBe(3);
  });

  it('runs nothing once closed, not even a flush waiting for its gap', () => {
    const t = scheduler((ms) => ms * 3);
    t.costs(5);
    t.s.request();
    t.endTask();
    t.s.request();
    t.s.close();
    vi.advanceTimersByTime(100);
    t.endTask();
    expect(t.flushes()).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
