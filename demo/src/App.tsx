import { useRealtimeLatest, useRealtimeStatus } from 'ssemux/react';
import type { DemoClient } from './client';
import { AnswerPanel } from './panels/AnswerPanel';
import { ConnectionPanel } from './panels/ConnectionPanel';
import { EventLogPanel } from './panels/EventLogPanel';
import { FaultsPanel } from './panels/FaultsPanel';
import { JobsPanel } from './panels/JobsPanel';
import { OneConnectionPanel } from './panels/OneConnectionPanel';
import { PresencePanel } from './panels/PresencePanel';
import { TopicsPanel } from './panels/TopicsPanel';
import { Toasts } from './panels/Toasts';
import { tabId } from './tab-id';
import { visitorName } from './visitor';

export function App({ client }: { client: DemoClient }) {
  return (
    <>
      <Header client={client} />
      <main className="grid">
        <ConnectionPanel client={client} />
        <OneConnectionPanel client={client} />
        <PresencePanel client={client} />
        <JobsPanel client={client} />
        <AnswerPanel client={client} />
        <FaultsPanel />
        <TopicsPanel client={client} />
        <EventLogPanel client={client} />
      </main>
    </>
  );
}

function Header({ client }: { client: DemoClient }) {
  const { state } = useRealtimeStatus(client);
  const tick = useRealtimeLatest(client, 'tick');
  return (
    <header className="top">
      <div className="brand">
        <span className="logo" aria-hidden="true">
          ≋
        </span>
        <div>
          <h1>ssemux live dashboard</h1>
          <p className="subtitle">One Server-Sent Events connection, shared by every tab of this origin.</p>
        </div>
      </div>
      {/* In the header's free middle: a notification never covers the panels below. */}
      <Toasts client={client} />
      <div className="top-right">
        <span className="muted" title="This browser's visitor name, and this tab's id">
          <span data-testid="visitor-name">{visitorName}</span> · tab <code data-testid="tab-id">{tabId.slice(0, 8)}</code>
        </span>
        <span className="muted" data-testid="server-clock" data-tick={tick?.n}>
          {tick ? `server ${new Date(tick.t).toLocaleTimeString()} · tick ${tick.n}` : 'waiting for the server…'}
        </span>
        <span className={`pill state-${state}`} data-testid="header-state">
          <span className="dot" />
          {state}
        </span>
      </div>
    </header>
  );
}
