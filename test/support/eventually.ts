// One polling helper for the suites that wait on a condition rather than a fixed sleep.

/** Polls `read` until `check` passes on its value, or throws `check`'s last error after `ms`. */
export async function eventually<T>(read: () => T | Promise<T>, check: (value: T) => void, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return value;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
