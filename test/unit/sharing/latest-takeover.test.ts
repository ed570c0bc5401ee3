// latest: true across a hub's death: the new hub keeps the last events of the types the tabs'
// listeners asked for, also those that already heard theirs.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type RealtimeClient } from '../../../src/client/create-realtime-client.js';
import { createHub } from '../../../src/hub/hub.js';
import type { EventMap } from '../../../src/protocol/types.js';
import { serveSharedWorker } from '../../../src/sharing/shared-worker-host.js';
import { installFakePlatform, type FakePlatform } from '../../support/fake-platform.js';
import { settle, until } from '../../support/fake-time.js';
import { createFakeServer, FAKE_TIMERS, openTab, URL_A, WORKER_URL, type FakeServer, type Tab } from './helpers.js';

let platform: FakePlatform;
let server: FakeServer;
const clients: RealtimeClient<EventMap>[] = [];

beforeEach(() => {
  vi.useFakeTimers(FAKE_TIMERS);
  platform = installFakePlatform({ sharedWorker: () => (scope) => serveSharedWorker(scope, { hub: createHub({ connect: server.connect }) }) });
  server = createFakeServer(platform);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  platform.uninstall();
  vi.useRealTimers();
});

function client(tab: Tab): RealtimeClient<EventMap> {
  const c = tab.run(() => createClient({ url: URL_A, workerUrl: WORKER_URL, sharing: 'shared-worker', parse: 'text', inert: false, earlyStream: false }, tab.context));
  clients.push(c);
  return c;
}

describe('latest: true after the worker restarted', () => {
  it('a tab whose latest listener already heard an event still has the new hub keep the last event of its type', async () => {
    const a = await openTab(platform, 'A');
    const ca = client(a);
    const heardA: string[] = [];
    ca.on('x', (m) => heardA.push(m.text), { latest: true });
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    server.publish('x', 'v1');
    await until(() => heardA.length === 1, 'v1');

    // The worker dies; tab A resubscribes to a new one, whose upstream resumes.
    platform.workers[0]!.terminate();
    await until(() => server.upstreams.length === 2 && server.upstreams[1]!.opened, 'the new worker\'s upstream');
    await settle();
    server.publish('x', 'v2');
    await until(() => heardA.length === 2, 'v2');

    // A new tab asks for the last x: tab A's listener asked for it, and v2 came since.
    const b = await openTab(platform, 'B');
    const cb = client(b);
    const heardB: string[] = [];
    cb.on('x', (m) => heardB.push(`${m.text}${m.latest ? ' (latest)' : ''}`), { latest: true });
    await until(() => cb.status.state === 'open', 'B open');
    await settle(10);
    expect(heardB).toEqual(['v2 (latest)']);
  });

  it('without a restart, the new tab hears the kept event', async () => {
    const a = await openTab(platform, 'A');
    const ca = client(a);
    const heardA: string[] = [];
    ca.on('x', (m) => heardA.push(m.text), { latest: true });
    await until(() => server.upstreams[0]?.opened === true, 'the upstream');
    server.publish('x', 'v1');
    server.publish('x', 'v2');
    await until(() => heardA.length === 2, 'v2');
    const b = await openTab(platform, 'B');
    const cb = client(b);
    const heardB: string[] = [];
    cb.on('x', (m) => heardB.push(`${m.text}${m.latest ? ' (latest)' : ''}`), { latest: true });
    await until(() => cb.status.state === 'open', 'B open');
    await settle(10);
    expect(heardB).toEqual(['v2 (latest)']);
  });
});
