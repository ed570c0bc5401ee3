// @vitest-environment node
// A server render in plain Node, as an app's SSR does it: the module that creates the client is
// imported on the server too.
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { createRealtimeClient, type RealtimeClient } from '../../src/index.js';
import { INITIAL_STATUS, useRealtimeEvent, useRealtimeLatest, useRealtimeStatus } from '../../src/react/index.js';

function Panel({ client }: { client: RealtimeClient | null | undefined }) {
  const status = useRealtimeStatus(client);
  const latest = useRealtimeLatest(client, 'stats');
  useRealtimeEvent(client, 'notification', () => {});
  return (
    <p>
      {status.state}/{status.sharing}/{status.transport}/{status.attempt}:{latest === undefined ? 'none' : String(latest)}
    </p>
  );
}

describe('server-side rendering', () => {
  it('the README pattern: a client created at import with a relative URL is inert on a server, and the hooks render the documented default', () => {
    const fetched: unknown[] = [];
    const realFetch = globalThis.fetch;
    globalThis.fetch = ((...args: unknown[]) => (fetched.push(args), Promise.reject(new Error('no network on a server')))) as typeof fetch;
    try {
      const client = createRealtimeClient({ url: '/events', workerUrl: '/ssemux-worker.js', topics: ['main'] });
      const html = renderToString(<Panel client={client} />);
      expect(html).toBe('<p>connecting<!-- -->/<!-- -->none<!-- -->/<!-- -->fetch<!-- -->/<!-- -->0<!-- -->:<!-- -->none</p>');
      expect(client.status).toEqual(INITIAL_STATUS);
      client.close();
      expect(fetched).toEqual([]);
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it('the hooks accept null and undefined (a `typeof window` guard) and render the same default', () => {
    for (const client of [null, undefined]) {
      expect(renderToString(<Panel client={client} />)).toBe('<p>connecting<!-- -->/<!-- -->none<!-- -->/<!-- -->fetch<!-- -->/<!-- -->0<!-- -->:<!-- -->none</p>');
    }
  });
});
