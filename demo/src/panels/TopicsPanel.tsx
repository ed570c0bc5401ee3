import { useRealtimeLatest } from 'ssemux/react';
import { MAIN_TOPIC, type DemoClient } from '../client';
import { useTopics } from '../topics';

/**
 * This tab's topics next to the ones the one upstream carries: the union of every tab's, as the
 * server counts them on its open connections.
 */
export function TopicsPanel({ client }: { client: DemoClient }) {
  const { topics } = useTopics(client);
  const stats = useRealtimeLatest(client, 'stats');
  const mine = [MAIN_TOPIC, ...topics];
  return (
    <section className="panel" data-testid="topics-panel">
      <h2>Topics</h2>
      <p className="muted small">This tab reads:</p>
      <ul className="topics" data-testid="my-topics">
        {mine.map((topic) => (
          <li key={topic} className="topic mine" data-topic={topic}>
            {topic}
          </li>
        ))}
      </ul>
      <p className="muted small">The one upstream carries, for every tab:</p>
      <ul className="topics" data-testid="upstream-topics">
        {(stats?.topics ?? []).map((topic) => (
          <li key={topic} className={`topic${mine.includes(topic) ? ' mine' : ''}`} data-topic={topic}>
            {topic}
          </li>
        ))}
      </ul>
    </section>
  );
}
