import { useState } from 'react';
import { useRealtimeEvent } from 'ssemux/react';
import { post } from '../api';
import type { DemoClient, DemoEvents } from '../client';

type Job = DemoEvents['job-progress'];

const MAX_JOBS = 6;

/** "Start a job" here; every tab draws every job's progress from `job-progress` events. */
export function JobsPanel({ client }: { client: DemoClient }) {
  // Newest first, keyed by jobId.
  const [jobs, setJobs] = useState<Job[]>([]);
  const [mine, setMine] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState('');

  useRealtimeEvent(client, 'job-progress', ({ data }) =>
    setJobs((prev) => {
      const i = prev.findIndex((job) => job.jobId === data.jobId);
      if (i < 0) return [data, ...prev].slice(0, MAX_JOBS);
      const next = [...prev];
      next[i] = data;
      return next;
    }),
  );

  const start = async () => {
    setError('');
    try {
      const { jobId } = await post<{ jobId: string }>('/jobs');
      setMine((prev) => new Set(prev).add(jobId));
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
      {jobs.length === 0 ? (
        <p className="empty">No job yet. Start one: every open tab shows its progress.</p>
      ) : (
        <ul className="jobs">
          {jobs.map((job) => {
            const done = job.done === true || job.pct >= 100;
            return (
              <li key={job.jobId} data-testid="job" data-job-id={job.jobId} data-pct={job.pct} data-done={String(done)}>
                <div className="job-line">
                  <strong>{job.jobId}</strong>
                  {mine.has(job.jobId) && <span className="tag">this tab</span>}
                  <span className="muted">{job.label}</span>
                  <span className="pct" data-testid="job-pct">
                    {job.pct}%
                  </span>
                </div>
                <div
                  className={`bar${done ? ' done' : ''}`}
                  role="progressbar"
                  aria-valuemin={0}
                  aria-valuemax={100}
                  aria-valuenow={job.pct}
                  aria-label={`${job.jobId} progress`}
                >
                  <div className="fill" style={{ width: `${job.pct}%` }} />
                </div>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
