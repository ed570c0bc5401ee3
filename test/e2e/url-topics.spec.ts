import { expect, openHarness, publishOne, received, startClient, stats, status, test } from './fixtures.js';

// A topic named in the URL (`/events?topic=x`) without the topics option is a topic of the client:
// the events arrive with their data alone (the protocol's topic line taken off) and msg.topic set,
// as with `topics: ['x']`, and the tab shares the one upstream of its endpoint.

test('a topic named in the URL is taken as the topics option: data without the topic line, msg.topic set', async ({ context, server }) => {
  const page = await openHarness(context, server);
  await startClient(page, { url: '/events?topic=orders', parse: 'text' } as never);
  await expect.poll(async () => (await status(page)).state).toBe('open');
  await publishOne(server, { topic: 'orders', data: 'first order' });
  await publishOne(server, { topic: 'other', data: 'not for this tab' });
  await publishOne(server, { topic: 'orders', data: 'second order' });
  await expect.poll(async () => (await received(page)).length).toBe(2);
  const got = (await received(page)) as { text: string; topic?: string }[];
  expect(got.map((m) => [m.topic, m.text])).toEqual([
    ['orders', 'first order'],
    ['orders', 'second order'],
  ]);
  expect((await stats(server)).perStream.orders?.open).toBe(1);
});
