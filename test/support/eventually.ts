/** Polls `read` until `check` passes, or throws its last error after `ms`. */
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
