import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installFakePlatform, type FakePlatform } from '../../support/fake-platform.js';
import { settle, until } from '../../support/fake-time.js';
import { createFakeServer, FAKE_TIMERS, openTab, recorder, spec, type FakeServer, type Tab } from './helpers.js';

let platform: FakePlatform;
let server: FakeServer;
let page: Tab;

beforeEach(async () => {
  vi.useFakeTimers(FAKE_TIMERS);
  platform = installFakePlatform();
  server = createFakeServer(platform);
  page = await openTab(platform, 'page', { connect: server.connect });
});
afterEach(() => {
  platform.uninstall();
  vi.useRealTimers();
});

const local = (tab: Tab) => tab.local.localLink();

describe("localLink (sharing: 'none')", () => {
  it('clients of one page share one hub and one upstream; each gets its types with the stream position', async () => {
    const all = page.subscribe(recorder(), local);
    const onlyX = page.subscribe(recorder({ types: ['x'] }), local);
    expect(local(page).sharing).toBe('none');
    await until(() => server.upstreams[0]?.opened === true, 'the upstream to open');
    server.publish('x');
    server.publish('y');
    server.publish('x');
    await until(() => all.ids.length === 3 && onlyX.ids.length === 2, 'deliveries');
    expect(server.upstreams).toHaveLength(1);
    expect(all.ids).toEqual(['1', '2', '3']);
    expect(onlyX.ids).toEqual(['1', '3']);
    expect(all.at).toMatchObject({ id: '3', count: 3 });
    expect(onlyX.at).toEqual(all.at);
    expect(all.state).toBe('open');
    expect(onlyX.state).toBe('open');
  });

  it('a second page (another module graph) has a hub of its own', async () => {
    page.subscribe(recorder(), local);
    const other = await openTab(platform, 'other', { connect: server.connect });
    other.subscribe(recorder(), local);
    await settle();
    expect(server.upstreams.map((u) => u.agent)).toEqual(['page', 'other']);
  });

  it('close() of the last subscriber ends the upstream at once: no grace period here', async () => {
    const a = page.subscribe(recorder(), local);
    const b = page.subscribe(recorder(), local);
    await until(() => server.upstreams[0]?.opened === true, 'the upstream to open');
    a.subscription!.close();
    expect(server.upstreams[0]!.closed).toBe(false);
    b.subscription!.close();
    // Synchronously, without any time passing.
    expect(server.upstreams[0]!.closed).toBe(true);
    // A later client opens a new one, from nothing.
    page.subscribe(recorder(), local);
    expect(server.upstreams).toHaveLength(2);
    expect(server.upstreams[1]!.lastEventId).toBe('');
  });

  it('different streams get different upstreams; closing one leaves the other', async () => {
    const a = page.subscribe(recorder(), local);
    const b = page.subscribe(recorder({ spec: spec({ url: 'https://example.test/other' }) }), local);
    await settle();
    expect(server.upstreams.map((u) => u.options.url)).toEqual(['https://example.test/events', 'https://example.test/other']);
    a.subscription!.close();
    expect(server.upstreams.map((u) => u.closed)).toEqual([true, false]);
    server.publish();
    await until(() => b.ids.length === 1);
    expect(b.ids).toEqual(['1']);
  });

  it("the hub asks the page's own headers provider before an attempt", async () => {
    const a = page.subscribe(recorder({ headers: async () => ({ Authorization: 'Bearer page' }) }), local);
    await settle();
    await expect(server.upstreams[0]!.headers()).resolves.toEqual({ Authorization: 'Bearer page' });
    expect(a.headersCalls).toBe(1);
  });
});
