import { createBufferingProxy } from '../support/buffering-proxy.js';
import { FAST, expect, expectIds, openHarness, publish, startClient, startServer, status, statuses, test } from './fixtures.js';
import { memoryStore } from 'ssemux/server';

test('with SharedWorker, EventSource and stream reading removed, events arrive by the polyfill and resume after a server restart', async ({ context }) => {
  // A log that outlives the server, as durable storage would.
  const store = memoryStore({ maxEvents: 1000 });
  let server = await startServer({ store });
  const port = server.port;
  try {
    await context.addInitScript(() => {
      delete (globalThis as { SharedWorker?: unknown }).SharedWorker;
      delete (globalThis as { EventSource?: unknown }).EventSource;
      // A browser whose fetch cannot hand out the body as a stream.
      delete (Response.prototype as { body?: unknown }).body;
    });
    const chunks: string[] = [];
    context.on('request', (r) => {
      if (r.url().includes('/dist/chunks/')) chunks.push(r.url());
    });
    const pages = [await openHarness(context, server), await openHarness(context, server)];
    for (const page of pages) await startClient(page, { url: '/events?stream=legacy', sharing: 'auto', ...FAST });
    for (const page of pages) await expect.poll(async () => (await status(page)).state).toBe('open');
    for (const page of pages) expect(await status(page)).toMatchObject({ transport: 'polyfill', sharing: 'leader' });
    // The polyfill is its own chunk, fetched because it was chosen.
    expect(chunks.some((url) => /xhr-transport/.test(url))).toBe(true);
    const before = await publish(server, 'legacy', 3);
    await expectIds(pages, before);

    await server.close();
    await expect.poll(async () => (await status(pages[0]!)).state).toBe('reconnecting');
    const during = [(await store.append({ topic: 'legacy', type: 'message', data: '{"n":4}' })).cursor];
    server = await startServer({ store, port });
    const after = await publish(server, 'legacy', 3);
    await expectIds(pages, [...before, ...during, ...after]);
  } finally {
    await server.close();
  }
});

test('a modern browser never downloads the polyfill chunk', async ({ context, server }) => {
  const chunks: string[] = [];
  context.on('request', (r) => {
    if (r.url().includes('/dist/chunks/')) chunks.push(new URL(r.url()).pathname);
  });
  const page = await openHarness(context, server);
  await startClient(page, { url: '/events?stream=modern', sharing: 'none', ...FAST });
  await expect.poll(async () => (await status(page)).state).toBe('open');
  const sent = await publish(server, 'modern', 2);
  await expectIds([page], sent);
  expect((await status(page)).transport).toBe('fetch');
  // sharing 'none' runs the hub here: the fallback modes' chunk (the links, the hub, the engine), and no other.
  expect(chunks).toEqual([expect.stringMatching(/^\/dist\/chunks\/fallback-order-[\w-]+\.js$/)]);
});

test('in shared-worker mode a page downloads ssemux.js and the worker, and no chunk', async ({ context, server }) => {
  const scripts: string[] = [];
  context.on('request', (r) => {
    if (r.url().includes('/dist/')) scripts.push(new URL(r.url()).pathname);
  });
  const pages = [await openHarness(context, server), await openHarness(context, server)];
  for (const page of pages) await startClient(page, { url: '/events?stream=common', sharing: 'shared-worker', ...FAST });
  for (const page of pages) await expect.poll(async () => (await status(page)).state).toBe('open');
  const sent = await publish(server, 'common', 2);
  await expectIds(pages, sent);
  expect(scripts.filter((path) => path.includes('/chunks/'))).toEqual([]);
  expect(new Set(scripts)).toEqual(new Set(['/dist/ssemux.js', '/dist/ssemux-worker.js']));
});

test('behind a proxy that buffers whole responses, auto ends on long-poll and events arrive', async ({ context }) => {
  // Short long-polls, so the first empty answer (which opens the stream) comes quickly.
  const server = await startServer({ longPollMs: 1500 });
  const proxy = await createBufferingProxy({ target: server.url });
  try {
    const page = await context.newPage();
    await page.goto(`${proxy.url}/harness.html`);
    await page.waitForFunction(() => (window as any).harnessReady === true);
    await startClient(page, { url: '/events?stream=buffered', sharing: 'none', transport: 'auto', heartbeatTimeoutMs: 1000, ...FAST });
    await expect.poll(async () => (await status(page)).transport, { timeout: 15_000 }).toBe('long-poll');
    await expect.poll(async () => (await status(page)).state).toBe('open');
    expect((await status(page)).fallbackReason).toMatch(/long-poll/);
    const sent = await publish(server, 'buffered', 4);
    await expectIds([page], sent);
    // Another stream of the same endpoint starts on long-poll at once: the choice is remembered.
    await startClient(page, { url: '/events?stream=buffered-2', sharing: 'none', transport: 'auto', heartbeatTimeoutMs: 1000, ...FAST });
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
