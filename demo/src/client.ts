// The page's one realtime client, configured from the page URL: `?sharing=` and `?transport=`
// (both default to `auto`), as an app would configure it.
import { createRealtimeClient, type RealtimeClient, type SharingMode, type TransportKind } from 'ssemux';

/** What the reference server's `main` stream carries (see demo-server/demo-emitters.js). */
export type DemoEvents = {
  tick: { n: number; t: number };
  notification: { title: string; body: string; level: 'info' | 'success' | 'warning' };
  stats: { openStreams: number; tabs: number; connections: number; eventsSent: number };
  'job-progress': { jobId: string; pct: number; label: string; done?: boolean };
  'answer-token': { answerId: string; token: string; done: boolean };
};

export type DemoClient = RealtimeClient<DemoEvents>;

const params = new URLSearchParams(location.search);

/** The sharing mode and transport asked for in the page URL. */
export const requested = {
  sharing: (params.get('sharing') || 'auto') as SharingMode,
  transport: (params.get('transport') || 'auto') as TransportKind,
};

/** Creates the client; an invalid `?sharing=`/`?transport=` makes it throw (shown on the page). */
export function createDemoClient(): DemoClient {
  return createRealtimeClient<DemoEvents>({
    url: '/events',
    workerUrl: '/dist/ssemux-worker.js',
    sharing: requested.sharing,
    transport: requested.transport,
    // Short enough that a person watching sees a stalled connection noticed.
    heartbeatTimeoutMs: 5000,
    backoff: { initialMs: 500, maxMs: 8000, factor: 2 },
  });
}
