// `createRealtimeServer` on a real node:http server of 127.0.0.1, set up so that the whole
// conformance suite applies: Bearer <user> authentication, one denied topic, short timers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeServer, type EventStore } from 'ssemux/server';
import type { ConformanceTarget } from './describe-conformance.js';

export const DENIED_TOPIC = 'conformance/denied';

export async function startLocalTarget(store: EventStore, retention: number): Promise<{ target: ConformanceTarget; close(): Promise<void> }> {
  const realtime = createRealtimeServer({
    store,
    authenticate: (req) => /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? null,
    authorize: (_user, topic) => topic !== DENIED_TOPIC,
    heartbeatMs: 300,
    longPollMs: 600,
    presenceGraceMs: 300,
    maxPresenceMembers: 3,
  });
  const server = http.createServer(realtime.handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: {
      baseUrl: `http://127.0.0.1:${port}`,
      publish: (event) => realtime.publish(event),
      headersFor: (user) => ({ Authorization: `Bearer ${user}` }),
      requiresAuth: true,
      deniedTopic: DENIED_TOPIC,
      defaultTopic: 'main',
      heartbeatMs: 300,
      longPollMs: 600,
      retention,
      presence: { graceMs: 300, maxMembers: 3 },
    },
    async close() {
      await realtime.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
