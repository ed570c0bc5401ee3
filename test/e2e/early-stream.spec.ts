import { holdRequests, recordRequests } from '../support/test-server.js';
import { expect, ids, openHarness, publishOne, received, startClient, stats, test, type DemoServer } from './fixtures.js';

// The first tab of an origin reads its stream with the platform's EventSource while its
// SharedWorker starts, and hands the stream over to the worker from the last event it got.

/** Publishes on `stream` one event after another until `stop()`; returns the ids published. */
function ticker(server: DemoServer, stream: string): { stop(): Promise<string[]> } {
  const sent: string[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 1; running; n++) sent.push(await publishOne(server, { stream, type: 'tick', data: { n } }));
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

/** The `Last-Event-ID` of every request for `/events` from now on, in order ('' for none). */
function resumeHeaders(server: DemoServer): string[] {
  const seen: string[] = [];
  server.server.prependListener('request', (req) => {
    if (req.url?.startsWith('/events')) seen.push(String(req.headers['last-event-id'] ?? ''));
  });
  return seen;
}

test('the first tab reads its stream itself until its worker runs, which takes over after the last event it got: none lost or repeated', async ({ context, server }) => {
  // The worker's script comes late (a slow network): the tab has read events by itself by then.
  const workerScript = holdRequests(server, '/dist/ssemux-worker.js');
  const requests = recordRequests(server);
  const streams = (from: 'page' | 'worker') =>
    requests.filter((r) => r.path === '/events' && r.referer?.endsWith('/ssemux-worker.js') === (from === 'worker')).map((r) => r.lastEventId ?? '');
  const tick = ticker(server, 'early');
  await expect.poll(async () => (await stats(server)).latestId).not.toBe('');
  const page = await openHarness(context, server);
  await startClient(page, { url: '/events?stream=early', sharing: 'shared-worker' }, ['tick']);
  const statuses = () => page.evaluate(() => (window as any).harness.statuses(0).map((s: any) => `${s.state}/${s.transport}`));
  await expect.poll(async () => (await received(page)).filter((m) => m.via === 'eventsource').length).toBeGreaterThan(2);
  workerScript.release();
  await expect.poll(async () => (await statuses()).at(-1)).toBe('open/fetch');
  // A second tab joins the running worker.
  const second = await openHarness(context, server);
  await startClient(second, { url: '/events?stream=early', sharing: 'shared-worker' }, ['tick']);
  await expect.poll(async () => (await ids(second)).length).toBeGreaterThan(3);
  const sent = await tick.stop();
  await expect.poll(async () => (await ids(page)).at(-1)).toBe(sent.at(-1));
  await expect.poll(async () => (await ids(second)).at(-1)).toBe(sent.at(-1));

  const got = await received(page);
  // Every event from the first one the tab got, once, in order, across the hand-over.
  expect(got.map((m) => m.id)).toEqual(sent.slice(sent.indexOf(got[0]!.id)));
  // Its status: open over the tab's EventSource, then open over the worker's fetch, never connecting between.
  expect(await statuses()).toEqual(['connecting/fetch', 'open/eventsource', 'open/fetch']);
  // The worker's request starts from the live end: it keeps what came after the tab's last event,
  // or, if it started after that, goes back once for the rest, from an event the tab got.
  const fromWorker = streams('worker');
  expect(fromWorker[0]).toBe('');
  expect(fromWorker.length).toBeLessThanOrEqual(2);
  if (fromWorker[1]) expect(got.map((m) => m.id)).toContain(fromWorker[1]);
  // The first tab's request; a second tab beside the running worker opens none of its own as a
  // rule, and one whose locks answer late guesses it is first and closes its own at the worker's open.
  const fromPages = streams('page');
  expect(fromPages.length).toBeLessThanOrEqual(2);
  expect(fromPages.every((id) => id === '')).toBe(true);
  const later = await ids(second);
  expect(later).toEqual(sent.slice(sent.indexOf(later[0]!)));
  await expect.poll(async () => (await stats(server)).openStreams).toBe(1);
});

test('the client says open only once every event published from then on reaches it: an event its own stream holds undispatched when the worker opens is not owed', async ({ context, server }) => {
  const workerScript = holdRequests(server, '/dist/ssemux-worker.js');
  // The page's own stream opens, but what it would dispatch stays on the server (a slow network):
  // the tab has read nothing when its worker's upstream opens.
  server.server.prependListener('request', (req, res) => {
    if (!req.url?.startsWith('/events') || req.headers.referer?.endsWith('/ssemux-worker.js')) return;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    res.write = ((chunk: unknown, ...rest: unknown[]) => (String(chunk).includes('data:') ? true : write(chunk, ...rest))) as typeof res.write;
  });
  const page = await openHarness(context, server);
  await page.evaluate(() => {
    const w = window as any;
    const Platform = w.EventSource;
    w.EventSource = class extends Platform {
      constructor(...args: unknown[]) {
        super(...args);
        this.addEventListener('open', () => (w.ownStreamOpen = true));
      }
    };
  });
  await startClient(page, { url: '/events?stream=owed', sharing: 'shared-worker' }, ['tick']);
  const statuses = () => page.evaluate(() => (window as any).harness.statuses(0).map((s: any) => `${s.state}/${s.transport}`));
  await expect.poll(() => page.evaluate(() => (window as any).ownStreamOpen === true)).toBe(true);
  const before = await publishOne(server, { stream: 'owed', type: 'tick', data: { n: 1 } });
  const saidThen = (await statuses()).at(-1);
  workerScript.release();
  await expect.poll(async () => (await statuses()).at(-1)).toBe('open/fetch');
  const after = await publishOne(server, { stream: 'owed', type: 'tick', data: { n: 2 } });
  await expect.poll(async () => (await ids(page)).at(-1)).toBe(after);
  // Every event published while the client said open reached it.
  expect(await ids(page)).toEqual(saidThen?.startsWith('open') ? [before, after] : [after]);
  expect(saidThen).toBe('connecting/fetch');
  expect([...new Set(await statuses())]).toEqual(['connecting/fetch', 'open/fetch']);
});

test("no early stream with a '*' listener (the platform names no type it is not asked for), nor with earlyStream: false", async ({ context, server }) => {
  const resumes = resumeHeaders(server);
  const page = await openHarness(context, server);
  await startClient(page, { url: '/events?stream=early-all', sharing: 'shared-worker' }, ['*']);
  const states = () => page.evaluate(() => (window as any).harness.statuses(0).map((s: any) => `${s.state}/${s.transport}`));
  await expect.poll(async () => (await states()).at(-1)).toBe('open/fetch');
  expect([...new Set(await states())]).toEqual(['connecting/fetch', 'open/fetch']);
  expect(resumes).toEqual(['']);
  const other = await context.browser()!.newContext();
  try {
    const alone = await openHarness(other, server);
    await startClient(alone, { url: '/events?stream=early-off', sharing: 'shared-worker', earlyStream: false }, ['tick']);
    const shown = () => alone.evaluate(() => (window as any).harness.statuses(0).map((s: any) => `${s.state}/${s.transport}`));
    await expect.poll(async () => (await shown()).at(-1)).toBe('open/fetch');
    expect([...new Set(await shown())]).toEqual(['connecting/fetch', 'open/fetch']);
    expect(resumes).toEqual(['', '']);
  } finally {
    await other.close();
  }
});
