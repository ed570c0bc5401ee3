import { useEffect, useState } from 'react';
import { MAIN_TOPIC, type DemoClient, type DemoEvents } from '../client';
import { visitorName } from '../visitor';

type Presence = DemoEvents['ssemux:presence'];
type TabCount = DemoClient['tabs'];

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Who reads the dashboard's topic: each visitor with its browsers, from the server (over every
 * instance; a browser's tabs share one connection), and for this browser its tabs, from the hub
 * they share (`client.tabs`).
 */
export function PresencePanel({ client }: { client: DemoClient }) {
  const [presence, setPresence] = useState<Presence | null>(null);
  const [tabs, setTabs] = useState<TabCount>(client.tabs);

  // latest: a new tab shows who is here at once, from the last presence event the hub kept.
  useEffect(() => client.on('ssemux:presence', ({ topic, data }) => topic === MAIN_TOPIC && setPresence(data), { latest: true }), [client]);
  useEffect(() => {
    setTabs(client.tabs);
    return client.onTabs(setTabs);
  }, [client]);

  return (
    <section className="panel" data-testid="presence-panel">
      <h2>Who is here</h2>
      {!presence ? (
        <p className="empty">Waiting for the server…</p>
      ) : (
        <ul className="presence">
          {presence.members.map(({ user, browsers }) => {
            const me = user === visitorName;
            return (
              <li key={user} data-testid="presence-member" data-user={user} data-browsers={browsers} data-tabs={me ? tabs.count : undefined}>
                <strong>{user}</strong>
                {me && <span className="tag">you</span>}
                <span className="muted">
                  {' — '}
                  {plural(browsers, 'browser')}
                  {me && `, ${plural(tabs.count, 'tab')}${browsers > 1 ? ' in this one' : ''}`}
                </span>
              </li>
            );
          })}
          {presence.anonymous > 0 && (
            <li data-testid="presence-anonymous" data-browsers={presence.anonymous}>
              <strong>anonymous</strong>
              <span className="muted"> — {plural(presence.anonymous, 'browser')}</span>
            </li>
          )}
          {presence.truncated && <li className="muted">and more</li>}
        </ul>
      )}
      <p className="muted small">
        Browsers from the server's <code>ssemux:presence</code> (a browser's tabs share one connection); tabs from <code>client.tabs</code>.
        {presence?.change && (
          <span data-testid="presence-change">
            {' '}
            Last change: {presence.change.user ?? 'anonymous'} {presence.change.browsers === 0 ? 'left' : `now on ${plural(presence.change.browsers, 'browser')}`}.
          </span>
        )}
      </p>
    </section>
  );
}
