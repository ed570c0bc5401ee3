import { FAST, expect, expectIds, openHarness, publish, startClient, stats, status, test } from './fixtures.js';

// Every transport against the real demo server, one tab each (sharing 'none'): the bytes the
// server writes arrive as the same events, in order, across drops and stalls.
const transports = ['fetch', 'eventsource', 'polyfill', 'long-poll'] as const;

for (const transport of transports) {
  test.describe(`transport ${transport}`, () => {
    test('delivers every event in order with its data, type and id', async ({ context, server }) => {
      const page = await openHarness(context, server);
      const stream = `t-${transport}`;
      await startClient(page, { url: `/events?stream=${stream}`, sharing: 'none', transport, ...FAST }, ['*', 'greeting']);
      await expect.poll(async () => (await status(page)).state).toBe('open');
      const sent = await publish(server, stream, 5);
      const named = (await fetch(`${server.url}/publish`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ stream, type: 'greeting', data: '{\n  "greet": "hello"\n}' }),
      }).then((r) => r.json())) as { id: number };
      // '*' and 'greeting' both see the named event.
      await expectIds([page], [...sent, String(named.id), String(named.id)]);
      const got = await page.evaluate(() => (window as any).harness.received(0));
      expect(got[0]).toMatchObject({ type: 'message', data: { n: 1 }, text: '{"n":1}' });
      // Multi-line data travels as several data: lines and comes back joined with LF.
      expect(got[5]).toMatchObject({ type: 'greeting', data: { greet: 'hello' }, text: '{\n  "greet": "hello"\n}' });
      expect((await status(page)).transport).toBe(transport);
      expect((await status(page)).lastEventId).toBe(String(named.id));
    });

    test('resumes after the server drops the connection mid-stream: nothing lost, nothing doubled', async ({ context, server }) => {
      const page = await openHarness(context, server);
      const stream = `drop-${transport}`;
      await startClient(page, { url: `/events?stream=${stream}`, sharing: 'none', transport, ...FAST });
      await expect.poll(async () => (await status(page)).state).toBe('open');
      const first = await publish(server, stream, 3);
      await expectIds([page], first);
      // The next two requests are cut after 2 events each; the client must resume after the last id it got.
      await fetch(`${server.url}/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'drop', after: 2, stream, times: 2 }),
      });
      await fetch(`${server.url}/faults/drop-all`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream }) });
      const rest = await publish(server, stream, 12);
      await expectIds([page], [...first, ...rest]);
      const statuses = await page.evaluate(() => (window as any).harness.statuses(0));
      expect(statuses.some((s: { state: string }) => s.state === 'reconnecting')).toBe(true);
      expect((await stats(server)).connections).toBeGreaterThanOrEqual(3);
    });

    // The native EventSource shows events only, never the bytes of a heartbeat, so it cannot tell
    // a stall from a quiet stream; a long-poll is held silent by design, so its stall shows only
    // after LONG_POLL_TIMEOUT_MS (unit-tested with fake timers). The rule is for streams that
    // show their bytes.
    if (transport === 'fetch' || transport === 'polyfill') test('a stalled stream (headers, then silence) is declared dead and replaced', async ({ context, server }) => {
      const page = await openHarness(context, server);
      const stream = `stall-${transport}`;
      await fetch(`${server.url}/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'stall', stream }),
      });
      await startClient(page, { url: `/events?stream=${stream}`, sharing: 'none', transport, heartbeatTimeoutMs: 1500, ...FAST });
      await expect
        .poll(async () => (await page.evaluate(() => (window as any).harness.statuses(0))).map((s: any) => s.error?.code))
        .toContain('heartbeat-timeout');
      await expect.poll(async () => (await status(page)).state).toBe('open');
      const sent = await publish(server, stream, 3);
      await expectIds([page], sent);
    });
  });
}

test('fetch can POST a body to the stream endpoint', async ({ context, server }) => {
  const page = await openHarness(context, server);
  const posted: (string | null)[] = [];
  page.on('request', (r) => r.url().includes('/events') && posted.push(`${r.method()} ${r.postData()}`));
  await page.evaluate(() => {
    const w = window as any;
    w.got = [];
    w.client = w.ssemux.createRealtimeClient({ url: '/events?stream=posted', sharing: 'none', method: 'POST', body: '{"filter":"all"}' });
    w.client.on('*', (m: { lastEventId: string }) => w.got.push(m.lastEventId));
  });
  await expect.poll(() => page.evaluate(() => (window as any).client.status.state)).toBe('open');
  const sent = await publish(server, 'posted', 2);
  await expect.poll(() => page.evaluate(() => (window as any).got)).toEqual(sent);
  expect(await page.evaluate(() => (window as any).client.status.transport)).toBe('fetch');
  expect(posted).toEqual(['POST {"filter":"all"}']);
});
