import { holdRequests, publishOne, recordRequests, stats } from '../support/test-server.js';
import { expect, test } from './fixtures.js';
import { FAST, expectOpen, ids, openHarness, startClient, statuses } from './harness.js';

// The first tab of an origin reads its stream with the platform's EventSource while its
// SharedWorker starts, and hands the stream over to the worker from the last event it got.

test('the first tab reads its stream itself until its worker runs, which takes over after the last event it got: none lost or repeated', async ({ context, server }) => {
  // The worker's script comes late (a slow network): what the tab gets until then, it read itself.
  const workerScript = holdRequests(server, '/dist/ssemux-worker.js');
  const requests = recordRequests(server);
  // The `Last-Event-ID` of each request for the stream ('' for none), the worker's or the pages'.
  const streams = (from: 'page' | 'worker') =>
    requests.filter((r) => r.path === '/events' && r.referer?.endsWith('/ssemux-worker.js') === (from === 'worker')).map((r) => r.lastEventId ?? '');
  const sent: string[] = [];
  let publishing = true;
  const ticker = (async () => {
    for (let n = 1; publishing; n++) sent.push(await publishOne(server, { stream: 'early', type: 'tick', data: { n } }));
  })();
  await expect.poll(() => sent.length).toBeGreaterThan(0);
  const tab = await openHarness(context, server);
  await startClient(tab, { url: '/events?stream=early', sharing: 'shared-worker', ...FAST }, ['tick']);
  await expect.poll(async () => (await ids(tab)).length, { timeout: 10_000 }).toBeGreaterThan(2);
  const readByItself = await ids(tab);
  workerScript.release();
  const shown = async () => (await statuses(tab)).map((s) => `${s.state}/${s.transport}`);
  await expect.poll(async () => (await shown()).at(-1), { timeout: 10_000 }).toBe('open/fetch');
  // A second tab joins the running worker.
  const second = await openHarness(context, server);
  await startClient(second, { url: '/events?stream=early', sharing: 'shared-worker', ...FAST }, ['tick']);
  await expectOpen(second);
  await expect.poll(async () => (await ids(second)).length).toBeGreaterThan(2);
  publishing = false;
  await ticker;
  for (const t of [tab, second]) await expect.poll(async () => (await ids(t)).at(-1), { timeout: 10_000 }).toBe(sent.at(-1));

  const got = await ids(tab);
  // Every event from the first one the tab got, once, in order, across the hand-over.
  expect(got).toEqual(sent.slice(sent.indexOf(got[0]!)));
  expect(got.slice(0, readByItself.length)).toEqual(readByItself);
  const later = await ids(second);
  expect(later).toEqual(sent.slice(sent.indexOf(later[0]!)));
  // Open over the tab's own EventSource, then over the worker's fetch, never connecting between.
  expect(await shown()).toEqual(['connecting/fetch', 'open/eventsource', 'open/fetch']);
  // The worker's request starts from the live end: it keeps what came after the tab's last event,
  // or, if it started after that, goes back once for the rest, from an event the tab read itself.
  const fromWorker = streams('worker');
  expect(fromWorker[0]).toBe('');
  expect(fromWorker.length).toBeLessThanOrEqual(2);
  if (fromWorker[1]) expect(got).toContain(fromWorker[1]);
  // The first tab's request; a second tab beside the running worker opens none of its own as a
  // rule, and one whose locks answer late guesses it is first and closes its own at the worker's open.
  const fromPages = streams('page');
  expect(fromPages.length).toBeLessThanOrEqual(2);
  expect(fromPages.every((id) => id === '')).toBe(true);
  await expect.poll(async () => (await stats(server)).openStreams).toBe(1);
});
