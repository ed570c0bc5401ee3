import type { Browser, Page } from '@playwright/test';
import { launchOwnBrowser, openTrackedTab } from './crash.js';
import { FAST, expect, ids, openHarness, publishOne, startClient, startServer, stats, status, test, type DemoServer } from './fixtures.js';

// What a tab does to the origin and to its neighbours when things are slow, stuck, huge or
// unusual: the connection budget, hot loops, stuck headers providers, memory, odd origins.

const queueFault = (server: DemoServer, fault: Record<string, unknown>) =>
  fetch(`${server.url}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fault) });

const errorCodes = (page: Page, i = 0): Promise<(string | undefined)[]> =>
  page.evaluate((n) => (window as any).harness.statuses(n).map((s: { error?: { code: string } }) => s.error?.code), i);

test('12 streams in one tab take at most maxConnections: the others wait and say so, the page can still fetch, a new tab still loads', async ({ context, server }) => {
  const page = await openHarness(context, server);
  for (let i = 0; i < 12; i++) await startClient(page, { url: `/events?stream=many-${i}`, sharing: 'shared-worker', ...FAST });
  await expect.poll(async () => (await stats(server)).openStreams).toBe(4);
  const states = async () => Promise.all(Array.from({ length: 12 }, (_, i) => status(page, i)));
  await expect.poll(async () => (await states()).filter((s) => s.error?.code === 'connection-limit').length).toBe(8);
  for (const s of await states()) if (s.error?.code === 'connection-limit') expect(s.error.message).toMatch(/maxConnections/);
  // The page's own requests and a new page of the origin still get a connection.
  const fetched = await page.evaluate(() => Promise.race([fetch('/stats').then((r) => r.status), new Promise((r) => setTimeout(() => r('hung'), 5000))]));
  expect(fetched).toBe(200);
  const another = await context.newPage();
  await another.goto(`${server.url}/harness.html`, { timeout: 5000 });
  // A freed slot goes to a waiting stream.
  const open = (await states()).findIndex((s) => s.state === 'open');
  await page.evaluate((i) => (window as any).harness.close(i), open);
  await expect.poll(async () => (await states()).filter((s) => s.state === 'open').length).toBe(4);
  expect((await stats(server)).openStreams).toBe(4);
});

test('a server that sends retry: 0 and ends cleanly gets a few requests, not a hot loop', async ({ context, server }) => {
  await queueFault(server, { kind: 'end', retry: 0, stream: 'retry-zero', times: 100_000 });
  const page = await openHarness(context, server);
  const before = (await stats(server)).requests;
  await startClient(page, { url: '/events?stream=retry-zero', sharing: 'none' });
  // The wait is the assertion: how many requests 5 s of retry: 0 bring.
  await new Promise((r) => setTimeout(r, 5000));
  const requests = (await stats(server)).requests - before;
  test.info().annotations.push({ type: 'requests in 5 s against retry: 0', description: String(requests) });
  expect(requests).toBeGreaterThan(1);
  expect(requests).toBeLessThanOrEqual(6);
});

test('Retry-After: 3000000 and retry: 2147483648 wait as long as a timer can, instead of retrying at once', async ({ context, server }) => {
  await queueFault(server, { kind: 'status', status: 503, retryAfter: 3_000_000, stream: 'retry-after' });
  await queueFault(server, { kind: 'end', retry: 2_147_483_648, stream: 'retry-huge' });
  const page = await openHarness(context, server);
  const before = (await stats(server)).requests;
  await startClient(page, { url: '/events?stream=retry-after', sharing: 'none' });
  await startClient(page, { url: '/events?stream=retry-huge', sharing: 'none' });
  for (const i of [0, 1]) await expect.poll(async () => (await status(page, i)).state).toBe('reconnecting');
  for (const i of [0, 1]) expect((await status(page, i)).retryInMs).toBe(2 ** 31 - 1);
  // The wait is the assertion: no request in the next 2 s.
  await new Promise((r) => setTimeout(r, 2000));
  expect((await stats(server)).requests - before).toBe(2);
});

/** Two tabs of carol, each with a provider that logs in afresh; the first opens the stream (and so answered last). */
async function twoProviderTabs(context: import('@playwright/test').BrowserContext, server: DemoServer, stream: string): Promise<[Page, Page]> {
  const tabs: Page[] = [];
  for (let i = 0; i < 2; i++) {
    const page = await openHarness(context, server);
    await page.evaluate(() => {
      const w = window as any;
      w.asked = 0;
      w.provider = async () => {
        w.asked++;
        if (w.hang) return new Promise(() => {});
        const res = await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"carol"}' });
        return { Authorization: `Bearer ${(await res.json()).token}` };
      };
    });
    await startClient(page, { url: `/events?stream=${stream}`, sharing: 'shared-worker', headers: '$provider', credentialsKey: 'carol', ...FAST });
    await expect.poll(async () => (await status(page)).state).toBe('open');
    tabs.push(page);
  }
  expect((await stats(server)).perStream[stream]?.open).toBe(1);
  return tabs as [Page, Page];
}

async function reopenAfterDrop(server: DemoServer, stream: string, page: Page): Promise<number> {
  const t0 = Date.now();
  await fetch(`${server.url}/faults/drop-all`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream }) });
  await expect.poll(async () => (await status(page)).state, { intervals: [20] }).toBe('reconnecting');
  await expect.poll(async () => (await status(page)).state, { timeout: 15_000, intervals: [20] }).toBe('open');
  return Date.now() - t0;
}

test('the tab that answered last hangs in its headers provider: the worker asks the next tab after 1.5 s, not 10 s per attempt', async ({ context, authServer }) => {
  const stream = 'hung-provider';
  const [first, second] = await twoProviderTabs(context, authServer, stream);
  await first.evaluate(() => ((window as any).hang = true));
  const ms = await reopenAfterDrop(authServer, stream, second);
  test.info().annotations.push({ type: 'reopened despite a hung provider (ms)', description: String(ms) });
  // What a user would notice: the worker gives a provider 1.5 s before asking the next tab, then
  // reconnects; measured 1.6 s on a 2-core machine at a load average of 15. 4 s leaves room for a
  // busier one; waiting out the 10 s headers timeout on each attempt would not fit.
  expect(ms).toBeLessThan(4000);
  expect(await first.evaluate(() => (window as any).asked)).toBeGreaterThan(0);
  const id = await publishOne(authServer, { stream, user: 'carol', data: { n: 1 } });
  await expect.poll(() => ids(second)).toContain(id);
});

test('the tab that answered last is busy (its main thread blocked): the worker asks the next tab', async ({ context, authServer }) => {
  const stream = 'busy-tab';
  const [first, second] = await twoProviderTabs(context, authServer, stream);
  // The second tab hears the first one start its busy loop: the message leaves in the task that
  // then blocks, so once it is heard the first tab is busy.
  await second.evaluate(() => {
    const w = window as any;
    w.busyHeard = false;
    new BroadcastChannel('test:busy').onmessage = () => (w.busyHeard = true);
  });
  await first.evaluate(() => {
    setTimeout(() => {
      new BroadcastChannel('test:busy').postMessage('busy');
      const end = Date.now() + 8000;
      while (Date.now() < end);
    }, 50);
  });
  await expect.poll(() => second.evaluate(() => (window as any).busyHeard)).toBe(true);
  const ms = await reopenAfterDrop(authServer, stream, second);
  test.info().annotations.push({ type: 'reopened beside a busy tab (ms)', description: String(ms) });
  // As above: measured 1.7 s at a load average of 15; a busy tab's 8 s loop would not fit.
  expect(ms).toBeLessThan(4000);
});

test('a provider slower than heartbeatTimeoutMs is no silence: no timeout, no downgrade, the stream opens', async ({ context, server }) => {
  const page = await openHarness(context, server);
  await page.evaluate(() => {
    (window as any).provider = () => new Promise((resolve) => setTimeout(() => resolve({ 'X-Slow': 'yes' }), 2500));
  });
  await startClient(page, { url: '/events?stream=slow-provider', sharing: 'shared-worker', headers: '$provider', heartbeatTimeoutMs: 1000, ...FAST });
  await expect.poll(async () => (await status(page)).state, { timeout: 10_000 }).toBe('open');
  expect((await errorCodes(page)).filter(Boolean)).toEqual([]);
  expect((await status(page)).transport).toBe('fetch');
});

test('a provider that never answers at start-up is reported (code headers) and tried again, not left connecting', async ({ context, server }) => {
  const page = await openHarness(context, server);
  await page.evaluate(() => {
    const w = window as any;
    w.provider = () => (w.answer ? Promise.resolve({ 'X-Ok': '1' }) : new Promise(() => {}));
  });
  await startClient(page, { url: '/events?stream=hung-start', sharing: 'shared-worker', headers: '$provider', headersTimeoutMs: 1000, ...FAST });
  await expect.poll(async () => (await status(page)).state).toBe('reconnecting');
  expect((await status(page)).error).toMatchObject({ code: 'headers', message: expect.stringMatching(/1000 ms/) });
  await page.evaluate(() => ((window as any).answer = true));
  await expect.poll(async () => (await status(page)).state, { timeout: 10_000 }).toBe('open');
});

async function workerHeapMb(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
  const worker = targetInfos.find((t) => t.type === 'shared_worker')!;
  const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false })) as { sessionId: string };
  let id = 0;
  const call = (method: string) =>
    new Promise<any>((resolve) => {
      const mine = ++id;
      const listener = (event: { message: string }) => {
        const message = JSON.parse(event.message);
        if (message.id !== mine) return;
        cdp.off('Target.receivedMessageFromTarget', listener);
        resolve(message.result);
      };
      cdp.on('Target.receivedMessageFromTarget', listener);
      void cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id: mine, method }) });
    });
  await call('HeapProfiler.collectGarbage');
  const { usedSize } = await call('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize / 1024 / 1024;
}

test('700 one-megabyte events on one stream: the worker heap stays flat', async ({ browser, context }) => {
  // The server keeps few events: this is about the browser's memory, not the test server's.
  const server = await startServer({ bufferSize: 4 });
  try {
    const page = await openHarness(context, server);
    await page.evaluate(() => {
      const w = window as any;
      w.got = 0;
      const client = w.ssemux.createRealtimeClient({ url: '/events?stream=big', workerUrl: '/dist/ssemux-worker.js', sharing: 'shared-worker', parse: 'text' });
      client.on('big', (m: { text: string }) => (w.got += m.text.length === 1_000_000 ? 1 : 0));
      w.client = client;
    });
    await expect.poll(() => page.evaluate(() => (window as any).client.status.state)).toBe('open');
    const megabyte = 'x'.repeat(1_000_000);
    // Published as fast as the tab takes them in: a server cuts a client that falls 8 MiB behind.
    for (let i = 1; i <= 700; i++) {
      await server.publish({ stream: 'big', type: 'big', data: megabyte });
      if (i % 4 === 0) await page.waitForFunction((n) => (window as any).got >= n, i - 2, { timeout: 20_000, polling: 5 });
    }
    await expect.poll(() => page.evaluate(() => (window as any).got), { timeout: 20_000 }).toBe(700);
    const heap = await workerHeapMb(browser);
    test.info().annotations.push({ type: 'worker heap after 700 one-megabyte events (MB)', description: heap.toFixed(1) });
    expect(heap).toBeLessThan(32);
  } finally {
    await server.close();
  }
});

test('a plain-http origin (no Web Locks): tabs still share the worker, and a tab that dies is noticed by pings', async ({ server }) => {
  const own = await launchOwnBrowser(['--host-resolver-rules=MAP insecure.test 127.0.0.1']);
  try {
    const context = await own.browser.newContext();
    const url = `http://insecure.test:${server.port}/harness.html`;
    const open = async () => {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => (window as any).harnessReady === true);
      return page;
    };
    const survivor = await open();
    expect(await survivor.evaluate(() => ({ secure: isSecureContext, locks: 'locks' in navigator }))).toEqual({ secure: false, locks: false });
    await startClient(survivor, { url: '/events?stream=insecure', sharing: 'shared-worker', ...FAST });
    const { page: victim, pid } = await openTrackedTab(own.pid, open);
    await startClient(victim, { url: '/events?stream=insecure', sharing: 'shared-worker', ...FAST });
    await startClient(victim, { url: '/events?stream=insecure-solo', sharing: 'shared-worker', ...FAST });
    for (const [page, i] of [[survivor, 0], [victim, 0], [victim, 1]] as const) await expect.poll(async () => (await status(page, i)).state).toBe('open');
    expect((await stats(server)).perStream.insecure?.open).toBe(1);

    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await expect.poll(async () => (await stats(server)).perStream['insecure-solo']?.open ?? 0, { timeout: 40_000, intervals: [250] }).toBe(0);
    test.info().annotations.push({ type: 'dead tab noticed without Web Locks (ms)', description: String(Date.now() - killedAt) });
    const id = await publishOne(server, { stream: 'insecure', data: { n: 1 } });
    await expect.poll(() => ids(survivor)).toContain(id);
  } finally {
    await own.browser.close();
    await own.server.close();
  }
});

test('an opaque origin (a sandboxed frame): SharedWorker and Web Locks refuse, the client falls back to none and says why', async ({ context, server }) => {
  const page = await context.newPage();
  await page.goto(`${server.url}/elsewhere.html`);
  await page.evaluate(() => {
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts');
    frame.src = '/opaque.html';
    document.body.append(frame);
  });
  await expect.poll(() => page.frames().length).toBe(2);
  const frame = page.frames()[1]!;
  await frame.waitForFunction(() => typeof (window as any).result === 'function');
  await expect.poll(async () => (await frame.evaluate(() => (window as any).result())).status.state, { timeout: 15_000 }).toBe('open');
  const { origin, status: s } = await frame.evaluate(() => (window as any).result());
  expect(origin).toBe('null');
  expect(s.sharing).toBe('none');
  expect(s.fallbackReason).toMatch(/SharedWorker/);
  expect(s.fallbackReason).toMatch(/Web Locks/);
  const id = await publishOne(server, { stream: 'opaque', data: { n: 1 } });
  await expect.poll(async () => (await frame.evaluate(() => (window as any).result())).received).toEqual([id]);
});
