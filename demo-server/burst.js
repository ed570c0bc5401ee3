// @ts-check
/**
 * `POST /publish/burst`: publish `count` events at `rate` events/s for benchmarks. A short
 * interval timer emits however many events are due at each tick, so high rates do not need one
 * timer per event. Each event's data is `{ seq, t }` (t = server send time, for latency).
 */

/** @typedef {import('./event-log.js').PublishInput} PublishInput */
/** @typedef {import('./event-log.js').StoredEvent} StoredEvent */

export const BURST_TICK_MS = 2;

/**
 * @typedef {object} BurstStatus
 * @property {string} stream
 * @property {string} type
 * @property {number} count
 * @property {number} rate
 * @property {number} sent
 * @property {number | null} firstId
 * @property {number | null} lastId
 * @property {boolean} done
 * @property {number} startedAt   ms since epoch
 * @property {number | null} finishedAt
 */

/**
 * @param {(input: PublishInput) => StoredEvent} publish
 * @param {{ count: number, rate: number, type?: string, stream?: string }} options
 * @returns {{ status: BurstStatus, stop: () => void }}
 */
export function startBurst(publish, { count, rate, type = 'bench', stream = 'main' }) {
  /** @type {BurstStatus} */
  const status = {
    stream,
    type,
    count,
    rate,
    sent: 0,
    firstId: null,
    lastId: null,
    done: false,
    startedAt: Date.now(),
    finishedAt: null,
  };

  const finish = () => {
    clearInterval(timer);
    if (!status.done) {
      status.done = true;
      status.finishedAt = Date.now();
    }
  };

  const tick = () => {
    const elapsed = Date.now() - status.startedAt;
    const due = Math.min(count, 1 + Math.floor((elapsed * rate) / 1000));
    while (status.sent < due) {
      const event = publish({ stream, type, data: JSON.stringify({ seq: status.sent, t: Date.now() }) });
      status.firstId ??= event.id;
      status.lastId = event.id;
      status.sent++;
    }
    if (status.sent >= count) finish();
  };

  const timer = setInterval(tick, BURST_TICK_MS);
  tick(); // the first event goes out at once
  return { status, stop: finish };
}
