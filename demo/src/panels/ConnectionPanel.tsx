import { useEffect, useMemo, useState } from 'react';
import type { RealtimeStatus } from 'ssemux';
import { useRealtimeEvent, useRealtimeStatus } from 'ssemux/react';
import { requested, type DemoClient } from '../client';

/** State, transport, sharing, last id, attempt, retry countdown, error and fallback reason. */
export function ConnectionPanel({ client }: { client: DemoClient }) {
  const status = useRealtimeStatus(client);
  const [last, setLast] = useState({ id: status.lastEventId, at: 0 });
  useRealtimeEvent(client, '*', (msg) => setLast({ id: msg.lastEventId, at: Date.now() }));
  const silence = useSilence(last.at);
  const retryLeft = useCountdown(status);
  const history = useStateHistory(client);

  return (
    <section className="panel" data-testid="connection-panel">
      <h2>Connection</h2>
      <div className={`state-banner state-${status.state}`} data-testid="conn-state" data-state={status.state}>
        <span className="dot" />
        <span className="state-name">{status.state}</span>
        {status.state === 'reconnecting' && retryLeft !== undefined && (
          <span className="retry" data-testid="conn-retry">
            retry in {(retryLeft / 1000).toFixed(1)} s
          </span>
        )}
      </div>
      <dl className="facts">
        <dt>Transport</dt>
        <dd>
          <code data-testid="conn-transport">{status.transport}</code>
          {requested.transport !== 'auto' && <span className="muted"> (asked {requested.transport})</span>}
        </dd>
        <dt>Sharing</dt>
        <dd>
          <code data-testid="conn-sharing">{status.sharing}</code>
          {requested.sharing !== 'auto' && <span className="muted"> (asked {requested.sharing})</span>}
        </dd>
        <dt>Last event id</dt>
        <dd>
          <code data-testid="conn-last-id">{last.id || '—'}</code>
        </dd>
        <dt>Last event</dt>
        <dd data-testid="conn-silence" className={silence !== undefined && silence >= 2500 ? 'quiet' : undefined}>
          {silence === undefined ? '—' : silence < 1000 ? 'just now' : `${(silence / 1000).toFixed(1)} s ago`}
        </dd>
        <dt>Attempt</dt>
        {/* An open stream is not attempting: the count (kept until it has stayed open 5 s) is for retries. */}
        <dd data-testid="conn-attempt">{status.state === 'open' ? '—' : status.attempt}</dd>
      </dl>
      {status.error && (
        <p className="error" data-testid="conn-error">
          <code>{status.error.code}</code>
          {status.error.status !== undefined && <code> {status.error.status}</code>} {status.error.message}
        </p>
      )}
      {status.fallbackReason && (
        <p className="fallback" data-testid="conn-fallback">
          Fallback: {status.fallbackReason}
        </p>
      )}
      <h3>Recent changes</h3>
      <ol className="history" data-testid="conn-history">
        {history.map((h) => (
          <li key={h.key} data-state={h.state}>
            <time>{new Date(h.at).toLocaleTimeString()}</time>
            <span className={`state-text state-${h.state}`}>{h.state}</span>
            {h.state !== 'open' && h.attempt > 0 && <span className="muted">attempt {h.attempt}</span>}
            {h.error && <code className="muted">{h.error}</code>}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Milliseconds since `at` (0 = never), updated four times a second: shows a stalled stream. */
function useSilence(at: number): number | undefined {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, []);
  return at === 0 ? undefined : Math.max(0, now - at);
}

interface Change {
  key: number;
  at: number;
  state: RealtimeStatus['state'];
  attempt: number;
  error?: string;
}

const HISTORY = 6;

/** The last few changes of state (or of error), newest first. */
function useStateHistory(client: DemoClient): Change[] {
  const [history, setHistory] = useState<Change[]>(() => [toChange(client.status, 0)]);
  useEffect(
    () =>
      client.onStatus((s) =>
        setHistory((prev) => {
          const last = prev[0];
          const next = toChange(s, (last?.key ?? 0) + 1);
          // A new entry for a new state or error, or another failed attempt; not for the reset of the count.
          const same = last && last.state === next.state && last.error === next.error && (next.state !== 'reconnecting' || last.attempt === next.attempt);
          if (same) return prev;
          return [next, ...prev].slice(0, HISTORY);
        }),
      ),
    [client],
  );
  return history;
}

function toChange(s: RealtimeStatus, key: number): Change {
  return { key, at: Date.now(), state: s.state, attempt: s.attempt, ...(s.error ? { error: s.error.code } : {}) };
}

/** Milliseconds left of `retryInMs`, counted from when the status announced it; ticks every 100 ms. */
function useCountdown(status: RealtimeStatus): number | undefined {
  const { state, attempt, retryInMs } = status;
  // Keyed by the fields, not the object: the object also changes with lastEventId.
  const deadline = useMemo(
    () => (state === 'reconnecting' && retryInMs !== undefined ? Date.now() + retryInMs : undefined),
    [state, attempt, retryInMs],
  );
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (deadline === undefined) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, [deadline]);
  return deadline === undefined ? undefined : Math.max(0, deadline - now);
}
