import { vi } from 'vitest';

/** Lets promises, streams and due (fake) timers run, without moving the fake clock. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await vi.advanceTimersByTimeAsync(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Settles until `condition` holds; throws after 100 rounds. */
export async function until(condition: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (condition()) return;
    await settle(1);
  }
  throw new Error(`Timed out waiting for ${what}`);
}
