/**
 * Runs `fn` after the current task, through a MessageChannel: unlike `setTimeout(0)`, which
 * Chrome and Firefox run at most once a second in a hidden tab (and a leader tab is usually
 * hidden), a message task is not throttled. Returns the scheduler and the function that ends it.
 */
export function createFlushTick(): { schedule(fn: () => void): void; close(): void } {
  let channel: MessageChannel | undefined;
  let queued: (() => void)[] = [];
  const run = () => {
    const now = queued;
    queued = [];
    for (const fn of now) fn();
  };
  return {
    schedule(fn) {
      queued.push(fn);
      if (queued.length > 1) return;
      if (!channel) {
        channel = new MessageChannel();
        channel.port1.onmessage = run;
        // In Node (tests) an open port would keep the process alive.
        (channel.port1 as { unref?: () => void }).unref?.();
      }
      channel.port2.postMessage(0);
    },
    close() {
      channel?.port1.close();
      channel?.port2.close();
      channel = undefined;
      queued = [];
    },
  };
}
