// @ts-check
/**
 * `POST /publish/burst`: publish `count` events at `rate` events/s for benchmarks. A short
 * interval timer publishes however many events are due at each tick (the next tick waits for
 * them), so high rates do not need one timer per event. Each event's data is `{ seq, t }`
 * (t = server send time, for latency).
 */

export const BURST_TICK_MS = 2;
/** Bounds of one burst: it must not be a way to fill the server's memory or CPU for good. */
export const MAX_BURST_COUNT = 200_000;
export const MAX_BURST_RATE = 100_000;
/**
 * Events published in one tick, at most. A tick that comes late (a busy process) would otherwise
 * publish everything due at once, and past the server's `maxPendingPublishes` (10,000: a quarter
 * of a second at 40,000 events/s) the store refuses the rest and the burst ends early. Late ticks
 * catch up in turns of this size instead (500,000 events/s at most at 2 ms a tick).
 */
export const MAX_BURST_BATCH = 1_000;

/**
 * @typedef {object} BurstStatus
 * @property {string} topic
 * @property {string} type
 * @property {number} count
 * @property {number} rate
 * @property {number} sent
 * @property {string | null} firstId   cursor of the first event
 * @property {string | null} lastId    cursor of the last event published so far
 * @property {boolean} done
 * @property {string | null} error     why the burst stopped early
 * @property {number} startedAt   ms since epoch
 * @property {number | null} finishedAt
 */

/**
 * @param {(input: { topic: string, type: string, data: string }) => Promise<string>} publish
 * @param {{ count: number, rate: number, type?: string, topic?: string }} options
 * @returns {{ status: BurstStatus, stop: () => void }}
 */
export function startBurst(publish, { count, rate, type = 'bench', topic = 'main' }) {
  /** @type {BurstStatus} */
  const status = {
    topic,
    type,
    count,
    rate,
    sent: 0,
    firstId: null,
    lastId: null,
    done: false,
    error: null,
    startedAt: Date.now(),
    finishedAt: null,
  };
  let busy = false;

  const finish = () => {
    clearInterval(timer);
    if (!status.done) {
      status.done = true;
      status.finishedAt = Date.now();
    }
  };

  const tick = async () => {
    if (busy || status.done) return;
    busy = true;
    const elapsed = Date.now() - status.startedAt;
    const due = Math.min(count, status.sent + MAX_BURST_BATCH, 1 + Math.floor((elapsed * rate) / 1000));
    /** @type {Promise<string>[]} */
    const batch = [];
    // Appended in call order, so seq follows cursor order.
    for (; status.sent < due; status.sent++) batch.push(publish({ topic, type, data: JSON.stringify({ seq: status.sent, t: Date.now() }) }));
    try {
      const ids = await Promise.all(batch);
      status.firstId ??= ids[0] ?? null;
      status.lastId = ids.at(-1) ?? status.lastId;
      if (status.sent >= count) finish();
    } catch (error) {
      status.error = String(error);
      finish();
    } finally {
      busy = false;
    }
  };

  const timer = setInterval(tick, BURST_TICK_MS);
  void tick(); // the first event goes out at once
  return { status, stop: finish };
}
