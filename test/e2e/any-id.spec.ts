import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startWptServer } from '../wpt/server.mjs';

// Ids of any text, and identities that are not evident, against the platform's EventSource on the
// same server (test/wpt/server.mjs, whose `record` resource keeps the raw bytes of every
// Last-Event-ID it gets, and whose `whoami` streams the `jti` of the token a connection opened with).

type Server = Awaited<ReturnType<typeof startWptServer>>;
let server: Server;

test.beforeAll(async () => {
  server = await startWptServer();
});
test.afterAll(async () => {
  await server.close();
});

async function openPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.origin}/eventsource/runner.html?kind=platform&cross=none`);
  return page;
}

type Seen = { data: string; lastEventId: string }[];

/**
 * Opens a source of `kind` in `page` on `url` and resolves with the messages it got once one says
 * `request 2` (the server's answer to the reconnection). `native`: the platform's EventSource;
 * `shared`: SharedEventSource (`sharing` as given); a transport name: createRealtimeClient alone.
 */
function receive(page: Page, kind: string, url: string, sharing = 'auto'): Promise<Seen> {
  return page.evaluate(
    async ([k, u, s]) => {
      const seen: { data: string; lastEventId: string }[] = [];
      const done = (m: { data: string; lastEventId: string }) => {
        seen.push(m);
        return m.data === 'request 2';
      };
      if (k === 'native' || k === 'shared') {
        const { SharedEventSource } = await import('/dist/ssemux-eventsource.js' as string);
        const source: EventSource = k === 'native' ? new EventSource(u) : new SharedEventSource(u, { workerUrl: '/dist/ssemux-worker.js', sharing: s });
        await new Promise<void>((resolve) => {
          source.onmessage = (e) => done({ data: e.data, lastEventId: e.lastEventId }) && resolve();
        });
        source.close();
        return seen;
      }
      const { createRealtimeClient } = await import('/dist/ssemux.js' as string);
      const client = createRealtimeClient({ url: u, transport: k, sharing: 'none', parse: 'text' });
      await new Promise<void>((resolve) => {
        client.on('message', (m: { text: string; lastEventId: string }) => done({ data: m.text, lastEventId: m.lastEventId }) && resolve());
      });
      client.close();
      return seen;
    },
    [kind, url, sharing] as const,
  );
}

const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');

for (const id of ['…', '注文-2', 'ok 🎉 done']) {
  test(`an id of any text (${id}): every transport and sharing mode resumes with the bytes the platform's EventSource sends`, async ({ context }) => {
    const [one, two, three] = [await openPage(context), await openPage(context), await openPage(context)];
    const url = (token: string) => `/eventsource/resources/record?token=${token}&id=${encodeURIComponent(id)}`;
    const expected = [
      { data: 'first', lastEventId: id },
      { data: 'request 2', lastEventId: id },
    ];
    const tag = `${hex(id).slice(0, 12)}-${Date.now()}`;

    expect(await receive(one, 'native', url(`native-${tag}`))).toEqual(expected);
    // The first two requests: a long-poll asks again at once, so a third may follow before close().
    const firstTwo = (token: string) => server.requests.get(token)?.slice(0, 2);
    const wire = firstTwo(`native-${tag}`);
    expect(wire).toEqual(['', hex(id)]);

    // One tab, through its SharedWorker; and each transport on its own.
    expect(await receive(one, 'shared', url(`shared-${tag}`))).toEqual(expected);
    for (const transport of ['fetch', 'polyfill', 'long-poll']) {
      expect(await receive(one, transport, url(`${transport}-${tag}`)), transport).toEqual(expected);
    }
    // A new EventSource cannot send the header: the id travels as the query's lastEventId, UTF-8.
    expect(await receive(one, 'eventsource', url(`eventsource-${tag}`))).toEqual(expected);
    expect(firstTwo(`eventsource-${tag}`)).toEqual(['', `query ${hex(id)}`]);

    // Across tabs: two tabs on one upstream (a SharedWorker, then an elected leader); the one
    // reconnection carries the id for both.
    for (const sharing of ['shared-worker', 'leader']) {
      const token = `${sharing}-${tag}`;
      const [a, b] = await Promise.all([receive(two, 'shared', url(token), sharing), receive(three, 'shared', url(token), sharing)]);
      expect(a.at(-1), sharing).toEqual({ data: 'request 2', lastEventId: id });
      expect(b.at(-1), sharing).toEqual({ data: 'request 2', lastEventId: id });
      expect(firstTwo(token), `${sharing}: one upstream, resumed with the id's bytes`).toEqual(['', hex(id)]);
    }
    for (const kind of ['shared', 'fetch', 'polyfill', 'long-poll']) {
      expect(firstTwo(`${kind}-${tag}`), kind).toEqual(wire);
    }
  });
}

test('a provider token outside Latin-1 is a fatal headers error, reported once, not a retry loop', async ({ context }) => {
  const page = await openPage(context);
  const statuses = await page.evaluate(async () => {
    const { createRealtimeClient } = await import('/dist/ssemux.js' as string);
    const client = createRealtimeClient({ url: '/eventsource/resources/message', workerUrl: '/dist/ssemux-worker.js', headers: async () => ({ Authorization: 'Bearer 注文' }) });
    const seen: { state: string; code?: string }[] = [];
    await new Promise<void>((resolve) => {
      client.onStatus((s: { state: string; error?: { code: string } }) => {
        seen.push({ state: s.state, code: s.error?.code });
        if (s.state === 'closed') resolve();
      });
    });
    return seen;
  });
  expect(statuses.at(-1)).toEqual({ state: 'closed', code: 'headers' });
  expect(statuses.filter((s) => s.state === 'reconnecting')).toEqual([]);
});

test('session-id tokens (no sub, differing in jti) never share a stream: two tabs, two upstreams, no event crosses', async ({ context }) => {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const token = (jti: string) => `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: 'https://id.example', sid: 'session', iat: 1, jti })}.c2ln`;
  const tabs = [await openPage(context), await openPage(context)];
  const jtis = ['session-of-alice', 'session-of-bob'];
  const start = (page: Page, bearer: string) =>
    page.evaluate(async (t) => {
      const { createRealtimeClient } = await import('/dist/ssemux.js' as string);
      const got: string[] = [];
      (window as any).got = got;
      const client = createRealtimeClient({ url: '/eventsource/resources/whoami', workerUrl: '/dist/ssemux-worker.js', parse: 'text', headers: () => ({ Authorization: `Bearer ${t}` }) });
      client.on('message', (m: { text: string }) => got.push(m.text));
      (window as any).client = client;
    }, bearer);
  for (const [i, page] of tabs.entries()) await start(page, token(jtis[i]!));
  const got = (page: Page): Promise<string[]> => page.evaluate(() => [...(window as any).got]);
  for (const [i, page] of tabs.entries()) {
    await expect.poll(async () => (await got(page)).length, { timeout: 15_000 }).toBeGreaterThan(5);
    expect(new Set(await got(page)), `tab ${i} hears its own session only`).toEqual(new Set([jtis[i]]));
  }
  expect((server.requests.get('whoami') ?? []).filter((j) => jtis.includes(j)).sort()).toEqual([...jtis].sort());
  for (const page of tabs) await page.evaluate(() => (window as any).client.close());
});
