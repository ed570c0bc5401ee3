// @ts-check
/**
 * What the demo page shows. On the default topic, for every tab: a `tick` every second, a
 * `notification` every ~8 s, live `stats` every second (with the topics the open upstreams
 * carry), a token-by-token "AI" answer (`answer-token`) on request, and `job-started` when a job
 * starts. Each job's progress (`job-progress`) goes on a topic of its own, `jobs/<id>`, which
 * only the tabs that follow it receive. No external service.
 */

/** @typedef {(input: { topic?: string, type: string, data: unknown }) => Promise<unknown>} Publish */
/** @typedef {{ openStreams: number, connections: number, eventsSent: number, perStream: Record<string, { open: number }> }} LiveStats */

/** The topic of a job's progress. */
export const jobTopic = (/** @type {string} */ jobId) => `jobs/${jobId}`;

const NOTIFICATIONS = /** @type {const} */ ([
  { title: 'Deploy finished', body: 'Version 2.4.1 is live in every region.', level: 'success' },
  { title: 'New comment', body: 'Ada replied to your design review.', level: 'info' },
  { title: 'Disk space low', body: 'The build cache is 91% full.', level: 'warning' },
  { title: 'Backup complete', body: 'Nightly snapshot stored (3.2 GB).', level: 'success' },
  { title: 'Meeting soon', body: 'Sprint planning starts in 10 minutes.', level: 'info' },
  { title: 'Rate limit near', body: 'The public API is at 80% of its quota.', level: 'warning' },
]);

const JOB_STEP_MS = 150;
const JOB_STEP_PCT = 5;
const TOKEN_MS = 40;

/** @param {number} pct */
function jobLabel(pct) {
  if (pct >= 100) return 'Done';
  if (pct < 10) return 'Queued';
  if (pct < 40) return 'Fetching data';
  if (pct < 70) return 'Crunching numbers';
  return 'Writing report';
}

/** @param {string} prompt */
function cannedAnswer(prompt) {
  const topic = prompt.trim().slice(0, 200) || 'nothing in particular';
  return (
    `You asked: "${topic}". Here is a streamed answer. Each token travels from the server over ` +
    `a single shared connection, and every open tab renders it at the same moment. If the ` +
    `connection drops, the client resumes from the last event id, so no token is lost or ` +
    `repeated. Nothing here calls an external service: the demo server writes this word by word.`
  );
}

/**
 * @typedef {object} DemoFeatures
 * @property {() => void} startFeeds  Start the periodic feeds: tick, notification, stats.
 * @property {() => string} startJob  A job that reports progress 0 → 100 every ~150 ms; its id.
 * @property {(prompt: string) => string} startAnswer
 *   Stream a canned answer that mentions the prompt, one word-token every ~40 ms; its id.
 * @property {() => void} stop  Stop every feed, job and answer.
 */

/**
 * @param {Publish} publish  publishes on the default topic
 * @param {() => Promise<LiveStats>} getStats
 * @param {(error: unknown) => void} onError  a publish that failed (the store is down)
 * @returns {DemoFeatures}
 */
export function createDemoFeatures(publish, getStats, onError) {
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set();
  let jobs = 0;
  let answers = 0;

  /** @param {string} type @param {unknown} data @param {string} [topic] the default topic when absent */
  const emit = (type, data, topic) => {
    publish({ ...(topic ? { topic } : {}), type, data }).catch(onError);
  };

  /**
   * Run `fn` every `ms` until it returns true or `stop()` is called.
   * @param {number} ms
   * @param {() => boolean | void} fn
   */
  const every = (ms, fn) => {
    const timer = setInterval(() => {
      if (fn() === true) {
        clearInterval(timer);
        timers.delete(timer);
      }
    }, ms);
    timers.add(timer);
  };

  return {
    startFeeds() {
      let n = 0;
      every(1000, () => emit('tick', { n: ++n, t: Date.now() }));
      let next = 0;
      every(8000, () => emit('notification', NOTIFICATIONS[next++ % NOTIFICATIONS.length]));
      every(1000, () => {
        getStats().then(({ openStreams, connections, eventsSent, perStream }) => {
          const topics = Object.entries(perStream).filter(([, { open }]) => open > 0).map(([topic]) => topic).sort();
          emit('stats', { openStreams, connections, eventsSent, topics });
        }, onError);
      });
    },

    startJob() {
      const jobId = `job-${++jobs}`;
      let pct = 0;
      emit('job-started', { jobId, topic: jobTopic(jobId) });
      const step = () => {
        const done = pct >= 100;
        emit('job-progress', { jobId, pct, label: jobLabel(pct), done }, jobTopic(jobId));
        pct = Math.min(100, pct + JOB_STEP_PCT);
        return done;
      };
      step();
      every(JOB_STEP_MS, step);
      return jobId;
    },

    startAnswer(prompt) {
      const answerId = `answer-${++answers}`;
      const tokens = cannedAnswer(prompt).match(/\S+\s*/g) ?? [''];
      let i = 0;
      every(TOKEN_MS, () => {
        const done = i === tokens.length - 1;
        emit('answer-token', { answerId, token: tokens[i++], done });
        return done;
      });
      return answerId;
    },

    stop() {
      for (const timer of timers) clearInterval(timer);
      timers.clear();
    },
  };
}
