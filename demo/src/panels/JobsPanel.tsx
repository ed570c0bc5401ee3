import { useEffect, useState } from 'react';
import { useRealtimeEvent } from 'ssemux/react';
import { post } from '../api';
import type { DemoClient, DemoEvents } from '../client';
import { useTopics } from '../topics';

type Job = DemoEvents['job-progress'];

const MAX_JOBS = 6;
/** A finished job's topic is let go after this, so the shared upstream carries it no longer. */
const DROP_DONE_AFTER_MS = 4000;

/**
 * "Start a job": its progress goes on a topic of its own (`jobs/<id>`), which this tab then
 * follows; other tabs see that a job started and may follow it too. Only the tabs that follow a
 * job get its events.
 */
export function JobsPanel({ client }: { client: DemoClient }) {
  const { topics, follow, unfollow } = useTopics(client);
  const [started, setStarted] = useState<DemoEvents['job-started'][]>([]);
  const [progress, setProgress] = useState<Record<string, Job>>({});
  const [mine, setMine] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState('');

  useRealtimeEvent(client, 'job-started', ({ data }) => setStarted((prev) => [data, ...prev.filter((j) => j.jobId !== data.jobId)].slice(0, MAX_JOBS)));
  useRealtimeEvent(client, 'job-progress', ({ data }) => setProgress((prev) => ({ ...prev, [data.jobId]: data })));

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
              <li key={jobId} data-testid="job" data-job-id={jobId} data-pct={job?.pct ?? ''} data-done={String(done)} data-following={String(following)}>
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
