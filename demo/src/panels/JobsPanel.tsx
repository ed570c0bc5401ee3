import { useEffect, useState } from 'react';
import { post } from '../api';
import type { DemoClient, DemoEvents } from '../client';
import { useTopics } from '../topics';

/** A job's progress, and whether the first one this tab got was the hub's last (`latest`) or a live event. */
type Job = DemoEvents['job-progress'] & { first: 'latest' | 'live' };

const MAX_JOBS = 6;
/** A finished job's topic is let go after this, so the shared upstream carries it no longer. */
const DROP_DONE_AFTER_MS = 4000;

/**
 * "Start a job": its progress goes on a topic of its own (`jobs/<id>`), which this tab then
 * follows; other tabs see that a job started and may follow it too. Only the tabs that follow a
 * job get its events. A tab opened later learns the last job started, and on following a job shows
 * its current progress at once, before any new event (`latest: true`: the last event the shared
 * stream carried, kept by the hub).
 */
export function JobsPanel({ client }: { client: DemoClient }) {
  const { topics, follow, unfollow } = useTopics(client);
  const [started, setStarted] = useState<DemoEvents['job-started'][]>([]);
  const [progress, setProgress] = useState<Record<string, Job>>({});
  const [mine, setMine] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState('');

  useEffect(
    () => client.on('job-started', ({ data }) => setStarted((prev) => [data, ...prev.filter((j) => j.jobId !== data.jobId)].slice(0, MAX_JOBS)), { latest: true }),
    [client],
  );
  const onProgress = (data: DemoEvents['job-progress'], latest: boolean) =>
    setProgress((prev) => ({ ...prev, [data.jobId]: { ...data, first: prev[data.jobId]?.first ?? (latest ? 'latest' : 'live') } }));

  // A finished job stops taking a seat on the upstream after a while.
  const finished = Object.values(progress).filter((job) => job.done && topics.includes(`jobs/${job.jobId}`));
  useEffect(() => {
    if (finished.length === 0) return;
    const timer = setTimeout(() => finished.forEach((job) => unfollow(`jobs/${job.jobId}`)), DROP_DONE_AFTER_MS);
    return () => clearTimeout(timer);
  }, [finished.map((job) => job.jobId).join()]);

  const start = async () => {
    setError('');
    try {
      const { jobId } = await post<{ jobId: string }>('/jobs');
      setMine((prev) => new Set(prev).add(jobId));
      follow(`jobs/${jobId}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section className="panel" data-testid="jobs-panel">
      <div className="panel-head">
        <h2>Job progress</h2>
        <button type="button" data-testid="start-job" onClick={() => void start()}>
          Start a job
        </button>
      </div>
      {error && <p className="error">{error}</p>}
      {started.length === 0 ? (
        <p className="empty">No job yet. Start one: its progress has a topic of its own, which this tab follows.</p>
      ) : (
        <ul className="jobs">
          {started.map(({ jobId, topic }) => {
            const job = progress[jobId];
            const following = topics.includes(topic);
            const done = job?.done === true || (job?.pct ?? 0) >= 100;
            return (
              <li
                key={jobId}
                data-testid="job"
                data-job-id={jobId}
                data-pct={job?.pct ?? ''}
                data-done={String(done)}
                data-following={String(following)}
                data-first-progress={job?.first ?? ''}
              >
                {following && <JobProgress client={client} topic={topic} onProgress={onProgress} />}
                <div className="job-line">
                  <strong>{jobId}</strong>
                  {mine.has(jobId) && <span className="tag">this tab</span>}
                  <span className="muted">{job ? job.label : following ? 'waiting…' : 'not followed'}</span>
                  {job && (
                    <span className="pct" data-testid="job-pct">
                      {job.pct}%
                    </span>
                  )}
                  {!following && !done && (
                    <button type="button" className="secondary small" data-testid="follow-job" onClick={() => follow(topic)}>
                      Follow
                    </button>
                  )}
                </div>
                <div
                  className={`bar${done ? ' done' : ''}`}
                  role="progressbar"
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={job?.pct ?? 0}
                  aria-label={`${jobId} progress`}
                >
                  <div className="fill" style={{ width: `${job?.pct ?? 0}%` }} />
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/**
 * Listens to a followed job's progress while it is mounted. Registered once the tab follows the
 * job's topic, with `latest: true`: the first call is the last progress the shared stream carried
 * (when some tab followed it before), marked `latest`, and live events follow.
 */
function JobProgress({ client, topic, onProgress }: { client: DemoClient; topic: string; onProgress(data: DemoEvents['job-progress'], latest: boolean): void }) {
  useEffect(() => client.on('job-progress', (msg) => msg.topic === topic && onProgress(msg.data, msg.latest === true), { latest: true }), [client, topic]);
  return null;
}
