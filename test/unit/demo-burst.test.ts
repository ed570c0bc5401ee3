// The demo server's burst generator (demo-server/burst.js), the load of `npm run bench`: on a busy
// machine its ticks come late, and what a late tick publishes must stay within what the server
// takes at once (`maxPendingPublishes`), or the burst ends short and the bench waits for events
// that were never published.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BURST_TICK_MS, MAX_BURST_BATCH, startBurst } from '../../demo-server/burst.js';

/** A publisher that refuses past `limit` publishes waiting, as createRealtimeServer's `publish` does. */
function boundedPublisher(limit: number) {
  let pending = 0;
  let next = 0;
  const stats = { published: 0, mostPending: 0 };
  const publish = () => {
    if (pending >= limit) return Promise.reject(new Error(`${pending} publishes are already waiting`));
    pending++;
    stats.mostPending = Math.max(stats.mostPending, pending);
    return Promise.resolve().then(() => {
      pending--;
      stats.published++;
      return `0-${++next}`;
    });
  };
  return { publish, stats };
}

describe('demo burst', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('publishes every event when its ticks come late, never more at once than a batch', async () => {
    const { publish, stats } = boundedPublisher(10_000);
    const burst = startBurst(publish, { count: 40_000, rate: 40_000 });
    // The process was busy for half a second: 20,000 events are due at the next tick.
    vi.setSystemTime(Date.now() + 500);
    for (let i = 0; i < 10_000 && !burst.status.done; i++) await vi.advanceTimersByTimeAsync(BURST_TICK_MS);
    expect(burst.status).toMatchObject({ done: true, error: null, sent: 40_000 });
    expect(stats.published).toBe(40_000);
    expect(stats.mostPending).toBeLessThanOrEqual(MAX_BURST_BATCH);
  });

  it('keeps its rate when on time', async () => {
    const { publish, stats } = boundedPublisher(10_000);
    const burst = startBurst(publish, { count: 1_000, rate: 10_000 });
    await vi.advanceTimersByTimeAsync(50);
    // 1 + 50 ms × 10 events/ms, give or take a tick.
    expect(stats.published).toBeGreaterThanOrEqual(480);
    expect(stats.published).toBeLessThanOrEqual(521);
    await vi.advanceTimersByTimeAsync(100);
    expect(burst.status).toMatchObject({ done: true, error: null, sent: 1_000 });
  });
});
