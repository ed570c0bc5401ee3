import { login, postJson, publishOne, startServer, stats } from '../support/test-server.js';
import type { Tab } from './engine.js';
import { expect, test } from './fixtures.js';
import { FAST, expectOpen, ids, openHarness, startClient } from './harness.js';

// Tabs share a stream only with tabs of the same credentials, in every sharing mode.

/** The app's own client in the page, outside the harness: a headers provider is a function. */
type Client = { status: { state: string }; on(type: string, listener: (m: { lastEventId: string }) => void): void };
declare const ssemux: { createRealtimeClient(options: object): Client };
/** What a test keeps in the page as `tab`. */
type InPage = { token?: string; providerCalls: number; got: string[]; client?: Client };
declare const tab: Required<InPage>;

test('two credentials in four tabs: two upstreams, no event crosses between users', async ({ context }) => {
  const server = await startServer({ auth: true });
  try {
    const tabs = [];
    // Each tab logs in on its own: two tabs of one user hold different tokens of that user.
    for (const user of ['alice', 'bob', 'alice', 'bob']) {
      const token = await login(server, user);
      const page = await openHarness(context, server);
      await startClient(page, { url: '/events?stream=private', sharing: 'shared-worker', ...FAST, headers: { Authorization: `Bearer ${token}` } });
      tabs.push({ user, page });
    }
    for (const { page } of tabs) await expectOpen(page);
    expect((await stats(server)).perStream.private?.open).toBe(2);
    const forAlice = await publishOne(server, { stream: 'private', user: 'alice', data: { to: 'alice' } });
    const forBob = await publishOne(server, { stream: 'private', user: 'bob', data: { to: 'bob' } });
    const forAll = await publishOne(server, { stream: 'private', data: { to: 'all' } });
    for (const { user, page } of tabs) {
      await expect.poll(() => ids(page)).toEqual(user === 'alice' ? [forAlice, forAll] : [forBob, forAll]);
    }
  } finally {
    await server.close();
  }
});

test('the worker asks a live tab for headers before every attempt, and another tab once that one is gone', async ({ context }) => {
  const server = await startServer({ auth: true });
  try {
    const tabs: Tab[] = [];
    for (let i = 0; i < 2; i++) {
      const page = await openHarness(context, server);
      // The provider logs in afresh on every call: a new token of the same user each time.
      await page.evaluate(() => {
        const t: InPage = ((globalThis as unknown as { tab: InPage }).tab = { providerCalls: 0, got: [] });
        const client = ssemux.createRealtimeClient({
          url: '/events?stream=auth',
          workerUrl: '/dist/ssemux-worker.js',
          sharing: 'shared-worker',
          backoff: { initialMs: 100, maxMs: 500 },
          // Named explicitly, so no start-up call: every call counted here is the worker asking.
          credentialsKey: 'carol',
          headers: async () => {
            t.providerCalls++;
            const res = await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"carol"}' });
            return { Authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
          },
        });
        client.on('*', (m) => t.got.push(m.lastEventId));
        t.client = client;
      });
      tabs.push(page);
    }
    // The whole status unless open, so that a failure shows why.
    const state = (page: Tab) => page.evaluate(() => (tab.client.status.state === 'open' ? 'open' : tab.client.status));
    const calls = (page: Tab) => page.evaluate(() => tab.providerCalls);
    for (const page of tabs) await expect.poll(() => state(page)).toBe('open');
    // Two tokens of one user name one identity: one upstream.
    expect((await stats(server)).perStream.auth?.open).toBe(1);
    const [first, second] = tabs as [Tab, Tab];
    const secondBefore = await calls(second);

    await first.close();
    await postJson(server, '/faults/drop-all', { stream: 'auth' });
    await expect.poll(() => calls(second)).toBeGreaterThan(secondBefore);
    await expect.poll(() => state(second)).toBe('open');
    const id = await publishOne(server, { stream: 'auth', user: 'carol', data: { still: 'here' } });
    await expect.poll(() => second.evaluate(() => tab.got)).toContain(id);
  } finally {
    await server.close();
  }
});

test('two credentials without SharedWorker: a leader each, no event crosses', async ({ context }) => {
  const server = await startServer({ auth: true });
  try {
    const tabs = [];
    for (const user of ['alice', 'bob', 'alice', 'bob']) {
      const token = await login(server, user);
      const page = await openHarness(context, server, ['SharedWorker']);
      // An async provider, as apps have: called before every attempt.
      await page.evaluate((token) => {
        const t: InPage = ((globalThis as unknown as { tab: InPage }).tab = { token, providerCalls: 0, got: [] });
        const client = ssemux.createRealtimeClient({
          url: '/events?stream=private',
          sharing: 'auto',
          headers: async () => ({ Authorization: `Bearer ${t.token}` }),
        });
        client.on('*', (m) => t.got.push(m.lastEventId));
        t.client = client;
      }, token);
      tabs.push({ user, page });
    }
    for (const { page } of tabs) await expect.poll(() => page.evaluate(() => tab.client.status.state)).toBe('open');
    expect((await stats(server)).perStream.private?.open).toBe(2);
    const a = await publishOne(server, { stream: 'private', user: 'alice', data: 1 });
    const b = await publishOne(server, { stream: 'private', user: 'bob', data: 2 });
    for (const { user, page } of tabs) {
      await expect.poll(() => page.evaluate(() => tab.got)).toEqual([user === 'alice' ? a : b]);
    }
  } finally {
    await server.close();
  }
});
