import { publishOne, stats } from '../support/test-server.js';
import { expect, test } from './fixtures.js';
import { FAST, expectOpen, ids, openHarness, startClient, statuses } from './harness.js';

// The first tab of an origin reads its stream with the platform's EventSource while its
// SharedWorker starts, and hands the stream over to the worker from the last event it got.

test('the first tab reads its stream itself until its worker runs, which takes over after the last event it got: none lost or repeated', async ({ context, server }) => {
  // The `Last-Event-ID` of every request for the stream, in order.
  const resumes: string[] = [];
  server.server.prependListener('request', (req) => {
    if (req.url?.startsWith('/events?stream=early')) resumes.push(String(req.headers['last-event-id'] ?? ''));
  });
  const sent: string[] = [];
  let publishing = true;
  const ticker = (async () => {
    for (let n = 1; publishing; n++) sent.push(await publishOne(server, { stream: 'early', type: 'tick', data: { n } }));
  })();
  await expect.poll(() => sent.length).toBeGreaterThan(0);
  const tab = await openHarness(context, server);
  await startClient(tab, { url: '/events?stream=early', sharing: 'shared-worker', ...FAST }, ['tick']);
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
  const later = await ids(second);
  expect(later).toEqual(sent.slice(sent.indexOf(later[0]!)));
  // Open over the tab's own EventSource, then over the worker's fetch, never connecting between.
  expect(await shown()).toEqual(['connecting/fetch', 'open/eventsource', 'open/fetch']);
  // The tab's request and the worker's; and if the worker did not keep the tab's last event, one
  // more from it.
  expect(resumes.slice(0, 2)).toEqual(['', '']);
  expect(resumes.length).toBeLessThanOrEqual(3);
  if (resumes[2]) expect(got).toContain(resumes[2]);
  await expect.poll(async () => (await stats(server)).openStreams).toBe(1);
});
