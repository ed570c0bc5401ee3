import { useEffect, useState } from 'react';
import { useRealtimeLatest } from 'ssemux/react';
import type { DemoClient } from '../client';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The server's own count of open upstream streams next to the tabs of this browser that share one. */
export function OneConnectionPanel({ client }: { client: DemoClient }) {
  const stats = useRealtimeLatest(client, 'stats');
  // From the hub the tabs share: 0 until it first says.
  const [tabs, setTabs] = useState(client.tabs.count);
  useEffect(() => {
    setTabs(client.tabs.count);
    return client.onTabs(({ count }) => setTabs(count));
  }, [client]);
  return (
    <section className="panel" data-testid="one-connection-panel">
      <h2>One connection</h2>
      <div className="big-numbers">
        <div className="big">
          <span className="num" data-testid="open-streams">
            {stats ? stats.openStreams : '–'}
          </span>
          <span className="label">open upstream {stats?.openStreams === 1 ? 'stream' : 'streams'}</span>
        </div>
        <div className="big secondary">
          <span className="num" data-testid="tabs-count">
            {tabs || '–'}
          </span>
          <span className="label">{tabs === 1 ? 'tab' : 'tabs'} attached</span>
        </div>
      </div>
      <p className="headline" data-testid="one-connection-line">
        {stats && tabs ? `${plural(tabs, 'tab')}, ${plural(stats.openStreams, 'connection')}` : 'Waiting for stats…'}
      </p>
      {stats && (
        <p className="muted small">
          Server totals: {plural(stats.connections, 'request')} to <code>/events</code> ever, {plural(stats.eventsSent, 'event')} written.
        </p>
      )}
      <button type="button" className="secondary" data-testid="open-tab" onClick={() => window.open(location.href)}>
        Open another tab
      </button>
    </section>
  );
}
