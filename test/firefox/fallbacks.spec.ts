import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { memoryStore } from 'ssemux/server';
import { createBufferingProxy } from '../support/buffering-proxy.js';
import { FAST, expectIds, ids, openClients, openHarness, startClient, status, statuses } from './support/harness.js';
import { expect, test } from './support/fixtures.js';
import { STATIC_DIRS, WORKER_FILE, publish, recordRequests, startServer, stats } from './support/server.js';

// Where the platform does not help, ssemux falls back and says why (test/e2e/fallbacks.spec.ts
// and test/e2e/leader.spec.ts in Chromium). What a page downloads is read on the server: BiDi
// ties a request to a tab, and a SharedWorker's script belongs to no tab.

test('without SharedWorker, Web Locks and BroadcastChannel each tab connects on its own and says so', async ({ context, server }) => {
  const before = () => {
    delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
    delete (globalThis as { BroadcastChannel?: unknown }).BroadcastChannel;
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined });
  };
  const pages = await openClients(context, server, 2, { url: '/events?stream=alone', sharing: 'auto', ...FAST }, { leaderFirst: true, before });
  for (const page of pages) {
    const s = await status(page);
    expect(s.sharing).toBe('none');
    expect(s.fallbackReason).toMatch(/Web Locks/);
  }
  expect((await stats(server)).perStream.alone?.open).toBe(2);
  const sent = await publish(server, 'alone', 3);
  await expectIds(pages, sent);
  expect(await ids(pages[1]!)).toEqual(sent);
});

test('with SharedWorker, EventSource and stream reading removed, events arrive by the polyfill and resume after a server restart', async ({ context }) => {
  // A log that outlives the server, as durable storage would.
  const store = memoryStore({ maxEvents: 1000 });
  let server = await startServer({ store });
  const port = server.port;
  try {
    const requested = recordRequests(server);
    const before = () => {
      delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
      delete (globalThis as { EventSource?: unknown }).EventSource;
      // A browser whose fetch cannot hand out the body as a stream.
      delete (Response.prototype as { body?: unknown }).body;
    };
    const pages = [await openHarness(context, server, before), await openHarness(context, server, before)];
    for (const page of pages) await startClient(page, { url: '/events?stream=legacy', sharing: 'auto', ...FAST });
    for (const page of pages) await expect.poll(async () => (await status(page)).state).toBe('open');
    for (const page of pages) expect(await status(page)).toMatchObject({ transport: 'polyfill', sharing: 'leader' });
    // The polyfill is its own chunk, fetched because it was chosen.
    expect(requested.some((path) => /^\/dist\/chunks\/xhr-transport-[\w-]+\.js$/.test(path))).toBe(true);
    const first = await publish(server, 'legacy', 3);
    await expectIds(pages, first);

    await server.close();
    await expect.poll(async () => (await status(pages[0]!)).state).toBe('reconnecting');
    const during = [(await store.append({ topic: 'legacy', type: 'message', data: '{"n":4}' })).cursor];
    server = await startServer({ store, port });
    const after = await publish(server, 'legacy', 3);
    await expectIds(pages, [...first, ...during, ...after]);
  } finally {
    await server.close();
  }
});

test('a modern browser never downloads the polyfill chunk', async ({ context, server }) => {
  const requested = recordRequests(server);
  const page = await openHarness(context, server);
  await startClient(page, { url: '/events?stream=modern', sharing: 'none', ...FAST });
  await expect.poll(async () => (await status(page)).state).toBe('open');
  const sent = await publish(server, 'modern', 2);
  await expectIds([page], sent);
  expect((await status(page)).transport).toBe('fetch');
  // sharing 'none' runs the hub here: the fallback modes' chunk (the links, the hub, the engine), and no other.
  expect(requested.filter((path) => path.startsWith('/dist/chunks/'))).toEqual([expect.stringMatching(/^\/dist\/chunks\/fallback-order-[\w-]+\.js$/)]);
});

test('in shared-worker mode a page downloads ssemux.js and the worker, and no chunk', async ({ context, server }) => {
  const requested = recordRequests(server);
  const pages = await openClients(context, server, 2, { url: '/events?stream=common', sharing: 'shared-worker', ...FAST });
  const sent = await publish(server, 'common', 2);
  await expectIds(pages, sent);
  const scripts = requested.filter((path) => path.startsWith('/dist/'));
  expect(scripts.filter((path) => path.includes('/chunks/'))).toEqual([]);
  expect(new Set(scripts)).toEqual(new Set(['/dist/ssemux.js', '/dist/ssemux-worker.js']));
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
    const page = await openHarness(context, server);
    await startClient(page, { url: `/events?stream=${stream}`, sharing: 'auto', workerUrl: '/old/ssemux-worker.js', ...FAST });
    await expect.poll(async () => (await status(page)).state).toBe('open');
    const s = await status(page);
    expect(s.sharing).not.toBe('shared-worker');
    expect(s.fallbackReason).toMatch(/protocol/);
    const sent = await publish(server, stream, 3);
    await expectIds([page], sent);
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
    const page = await openHarness(context, proxy);
    const options = { sharing: 'none', transport: 'auto', heartbeatTimeoutMs: 1000, ...FAST };
    await startClient(page, { url: '/events?stream=buffered', ...options });
    await expect.poll(async () => (await status(page)).transport).toBe('long-poll');
    await expect.poll(async () => (await status(page)).state).toBe('open');
    expect((await status(page)).fallbackReason).toMatch(/long-poll/);
    const sent = await publish(server, 'buffered', 4);
    await expectIds([page], sent);
    // Another stream of the same endpoint starts on long-poll at once: the choice is remembered.
    await startClient(page, { url: '/events?stream=buffered-2', ...options });
    await expect.poll(async () => (await status(page, 1)).state).toBe('open');
    // Every status since the client's own first guess (before its hub spoke) says long-poll and why.
    const since = (await statuses(page, 1)).slice(1);
    expect(since.length).toBeGreaterThan(0);
    for (const s of since) expect(s).toMatchObject({ transport: 'long-poll', fallbackReason: expect.stringMatching(/long-poll/) });
    const more = await publish(server, 'buffered-2', 2);
    await expectIds([page], more, 1);
  } finally {
    await proxy.close();
    await server.close();
  }
});
