// The page's one realtime client, configured from the page URL: `?sharing=` and `?transport=`
// (both default to `auto`), as an app would configure it.
import { createRealtimeClient, type RealtimeClient, type SharingMode, type TransportKind } from 'ssemux';

/**
 * What the demo server sends (demo-server/demo-emitters.js): on the `main` topic for every tab,
 * and each job's progress on a topic of its own, `jobs/<id>`.
 */
export type DemoEvents = {
  tick: { n: number; t: number };
  notification: { title: string; body: string; level: 'info' | 'success' | 'warning' };
  /** `topics`: what the server's open upstreams carry (the union of every tab's topics). */
  stats: { openStreams: number; connections: number; eventsSent: number; topics: string[] };
  'job-started': { jobId: string; topic: string };
  'job-progress': { jobId: string; pct: number; label: string; done?: boolean };
  'answer-token': { answerId: string; token: string; done: boolean };
  /** Who reads a topic (`msg.topic`), from ssemux/server: each user with its browsers. */
  'ssemux:presence': {
    members: { user: string; browsers: number }[];
    anonymous: number;
    truncated?: true;
    change?: { user: string | null; browsers: number };
  };
};

/** The topic every tab of the dashboard reads. */
export const MAIN_TOPIC = 'main';

export type DemoClient = RealtimeClient<DemoEvents>;

const params = new URLSearchParams(location.search);

/** The sharing mode and transport asked for in the page URL. */
export const requested = {
  sharing: (params.get('sharing') || 'auto') as SharingMode,
  transport: (params.get('transport') || 'auto') as TransportKind,
};

/** Creates the client; an invalid `?sharing=`/`?transport=` makes it throw (shown on the page). */
export function createDemoClient(topics: readonly string[] = [MAIN_TOPIC]): DemoClient {
  return createRealtimeClient<DemoEvents>({
    url: '/events',
    topics,
    workerUrl: '/dist/ssemux-worker.js',
    sharing: requested.sharing,
    transport: requested.transport,
    // Short enough that a person watching sees a stalled connection noticed.
    heartbeatTimeoutMs: 5000,
    backoff: { initialMs: 500, maxMs: 8000, factor: 2 },
  });
}
