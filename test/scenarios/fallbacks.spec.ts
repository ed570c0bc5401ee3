import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { memoryStore } from 'ssemux/server';
import { createBufferingProxy } from '../support/buffering-proxy.js';
import { STATIC_DIRS, WORKER_FILE, publish, recordRequests, startServer, stats } from '../support/test-server.js';
import { WORKER_CHECK_MS } from '../../src/protocol/limits.js';
import type { Tab } from './engine.js';
import { expect, test } from './fixtures.js';
import { FAST, expectIds, expectOpen, ids, openClients, openHarness, startClient, status, statuses } from './harness.js';

// Where the platform does not help, ssemux falls back and says why. What a page downloads is read
// on the server: a SharedWorker's script is requested by no tab a driver could watch.

test('without SharedWorker, Web Locks and BroadcastChannel each tab connects on its own and says so', async ({ context, server }) => {
  const tabs = await openClients(context, server, 2, { url: '/events?stream=alone', sharing: 'auto', ...FAST }, { leaderFirst: true, without: ['SharedWorker', 'BroadcastChannel', 'locks'] });
  for (const tab of tabs) {
    const s = await status(tab);
    expect(s.sharing).toBe('none');
    expect(s.fallbackReason).toMatch(/Web Locks/);
  }
  expect((await stats(server)).perStream.alone?.open).toBe(2);
  const sent = await publish(server, 'alone', 3);
  await expectIds(tabs, sent);
  expect(await ids(tabs[1]!)).toEqual(sent);
});

test('with SharedWorker, EventSource and stream reading removed, events arrive by the polyfill and resume after a server restart', async ({ context }) => {
  // A log that outlives the server, as durable storage would.
  const store = memoryStore({ maxEvents: 1000 });
  let server = await startServer({ store });
  const port = server.port;
  try {
    const requested = recordRequests(server);
    // A browser whose fetch cannot hand out the body as a stream ('body').
    const without = ['SharedWorker', 'EventSource', 'body'] as const;
    const tabs = [await openHarness(context, server, [...without]), await openHarness(context, server, [...without])];
    for (const tab of tabs) await startClient(tab, { url: '/events?stream=legacy', sharing: 'auto', ...FAST });
    for (const tab of tabs) await expectOpen(tab);
    for (const tab of tabs) expect(await status(tab)).toMatchObject({ transport: 'polyfill', sharing: 'leader' });
    // The polyfill is its own chunk, fetched because it was chosen.
    expect(requested.some((r) => /^\/dist\/chunks\/xhr-transport-[\w-]+\.js$/.test(r.path))).toBe(true);
    const first = await publish(server, 'legacy', 3);
    await expectIds(tabs, first);

    await server.close();
    await expect.poll(async () => (await status(tabs[0]!)).state).toBe('reconnecting');
    const during = [(await store.append({ topic: 'legacy', type: 'message', data: '{"n":4}' })).cursor];
    server = await startServer({ store, port });
    const after = await publish(server, 'legacy', 3);
    await expectIds(tabs, [...first, ...during, ...after]);
  } finally {
    await server.close();
  }
});

test('a modern browser never downloads the polyfill chunk', async ({ context, server }) => {
  const requested = recordRequests(server);
  const tab = await openHarness(context, server);
  await startClient(tab, { url: '/events?stream=modern', sharing: 'none', ...FAST });
  await expectOpen(tab);
  const sent = await publish(server, 'modern', 2);
  await expectIds([tab], sent);
  expect((await status(tab)).transport).toBe('fetch');
  // sharing 'none' runs the hub here: the fallback modes' chunk (the links, the hub, the engine), and no other.
  expect(requested.map((r) => r.path).filter((path) => path.startsWith('/dist/chunks/'))).toEqual([expect.stringMatching(/^\/dist\/chunks\/fallback-order-[\w-]+\.js$/)]);
});

test('in shared-worker mode a page downloads ssemux.js and the worker, and no chunk but, only when its worker is slow to answer, the report of what the worker URL serves', async ({ context, server }) => {
  const requested = recordRequests(server);
  const tabs: Tab[] = [];
  /** When each tab was about to create its client (performance.now() in the tab): no later than it did. */
  const created: number[] = [];
  for (let i = 0; i < 2; i++) {
    const tab = await openHarness(context, server);
    created.push(await tab.evaluate(() => performance.now()));
    await startClient(tab, { url: '/events?stream=common', sharing: 'shared-worker', ...FAST });
    tabs.push(tab);
  }
  for (const tab of tabs) await expectOpen(tab);
  for (const tab of tabs) expect((await status(tab)).sharing).toBe('shared-worker');
  const sent = await publish(server, 'common', 2);
  await expectIds(tabs, sent);
  const scripts = requested.map((r) => r.path).filter((path) => path.startsWith('/dist/'));
  const chunks = scripts.filter((path) => path.includes('/chunks/'));
  // A worker that has not welcomed a tab within WORKER_CHECK_MS has its URL looked at (a wrong URL
  // never answers), which loads that chunk: a worker started on a busy machine can be that slow.
  for (const path of chunks) expect(path).toMatch(/^\/dist\/chunks\/worker-failure-[\w-]+\.js$/);
  for (const [i, tab] of tabs.entries()) {
    const asked = await tab.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/chunks/')).map((e) => e.startTime));
    for (const at of asked) expect(at - created[i]!, 'the chunk was asked for before the worker could be late').toBeGreaterThanOrEqual(WORKER_CHECK_MS);
  }
  expect(new Set(scripts.filter((path) => !chunks.includes(path)))).toEqual(new Set(['/dist/ssemux.js', '/dist/ssemux-worker.js']));
});

test('a worker of another protocol version is not used: the tab falls back and still gets every event', async ({ context }) => {
  // An old worker that outlived a deploy answers hello with another version.
  const dir = await mkdtemp(`${tmpdir()}/ssemux-old-worker-`);
  const body = (await readFile(WORKER_FILE, 'utf8')).replace(/protocol:\w+,lifeLock:/, 'protocol:999,lifeLock:');
  expect(body).toContain('protocol:999');
  await writeFile(`${dir}/ssemux-worker.js`, body);
  const server = await startServer({ staticDirs: [{ prefix: '/old', dir }, ...STATIC_DIRS] });
  try {
    const stream = 'mismatch';
    const tab = await openHarness(context, server);
    await startClient(tab, { url: `/events?stream=${stream}`, sharing: 'auto', workerUrl: '/old/ssemux-worker.js', ...FAST });
    await expectOpen(tab);
    const s = await status(tab);
    expect(s.sharing).not.toBe('shared-worker');
    expect(s.fallbackReason).toMatch(/protocol/);
    const sent = await publish(server, stream, 3);
    await expectIds([tab], sent);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('behind a proxy that buffers whole responses, auto ends on long-poll and events arrive', async ({ context }) => {
  // Short long-polls, so the first empty answer (which opens the stream) comes quickly.
  const server = await startServer({ longPollMs: 1500 });
  const proxy = await createBufferingProxy({ target: server.url });
  try {
    const tab = await openHarness(context, proxy);
    const options = { sharing: 'none', transport: 'auto', heartbeatTimeoutMs: 1000, ...FAST };
    await startClient(tab, { url: '/events?stream=buffered', ...options });
    await expect.poll(async () => (await status(tab)).transport).toBe('long-poll');
    await expectOpen(tab);
    expect((await status(tab)).fallbackReason).toMatch(/long-poll/);
    const sent = await publish(server, 'buffered', 4);
    await expectIds([tab], sent);
    // Another stream of the same endpoint starts on long-poll at once: the choice is remembered.
    await startClient(tab, { url: '/events?stream=buffered-2', ...options });
    await expectOpen(tab, 1);
    // Every status since the client's own first guess (before its hub spoke) says long-poll and why.
    const since = (await statuses(tab, 1)).slice(1);
    expect(since.length).toBeGreaterThan(0);
    for (const s of since) expect(s).toMatchObject({ transport: 'long-poll', fallbackReason: expect.stringMatching(/long-poll/) });
    const more = await publish(server, 'buffered-2', 2);
    await expectIds([tab], more, 1);
  } finally {
    await proxy.close();
    await server.close();
  }
});
