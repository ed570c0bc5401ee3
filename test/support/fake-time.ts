import { vi } from 'vitest';

/** Lets promises, streams and due (fake) timers run, without moving the fake clock. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await vi.advanceTimersByTimeAsync(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Settles until `condition` holds; throws after 100 rounds and at least 2 s of real time (a
 * chunk's dynamic import goes through Vitest's module runner, which takes real time).
 */
export async function until(condition: () => boolean, what = 'condition'): Promise<void> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < 100 || process.hrtime.bigint() - start < 2_000_000_000n; i++) {
    if (condition()) return;
    await settle(1);
  }
  throw new Error(`Timed out waiting for ${what}`);
}
