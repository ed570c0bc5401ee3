import { canElectLeader } from '../../../src/sharing/leader-link.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NAMESPACE, PROTOCOL_VERSION } from '../../../src/protocol/release.js';
import type { Frame, HubMessage, TabMessage } from '../../../src/protocol/tab-hub-messages.js';
import type { WireEvent } from '../../../src/protocol/types.js';
import type { InboxMessage } from '../../../src/sharing/inbox.js';
import { decodeHubMessage } from '../../../src/sharing/wire-decoder.js';
import { installFakePlatform, type ChannelRecord, type FakePlatform, type PlatformOptions } from '../../support/fake-platform.js';
import { settle, until } from '../../support/fake-time.js';
import type { UpstreamOptions } from '../../../src/hub/hub.js';
import { createFakeServer, FAKE_TIMERS, openTab, openTabs, recorder, spec, states, type FakeServer, type Recorder, type SubscribeRequest, type Tab } from './helpers.js';

let platform: FakePlatform;
let server: FakeServer;

function install(options: PlatformOptions = {}): void {
  platform = installFakePlatform(options);
  server = createFakeServer(platform);
}

beforeEach(() => {
  vi.useFakeTimers(FAKE_TIMERS);
});
afterEach(() => {
  platform.uninstall();
  vi.useRealTimers();
});

const GROUP = 'user-1';
const group =
  (name = GROUP) =>
  (tab: Tab) =>
    tab.leader.leaderLink(name);

const leaderLock = (name = GROUP, namespace = NAMESPACE) => `${namespace}:${name}:leader`;
const leaderOf = (name = GROUP, namespace = NAMESPACE) => platform.locks.holder(leaderLock(name, namespace));

/** The tab's own inbox: the channel it listens on (outboxes only post). */
/** The tab's current inbox (a page back from the back/forward cache opened a new one). */
function inboxOf(tab: Tab): ChannelRecord {
  const inbox = platform.channels.filter((c) => c.agent === tab.agent && c.listening && !c.closed && c.name.includes(':inbox:')).at(-1);
  if (!inbox) throw new Error(`${tab.agent} has no inbox`);
  return inbox;
}
/** The tab's id among its group (the end of its inbox's name). */
const idOf = (tab: Tab) => inboxOf(tab).name.split(':inbox:')[1]!;

const HUB_KINDS = new Set(['frames', 'ping', 'ask-headers', 'failed']);
/** What hubs said on a channel (a tab's inbox), decoded. */
const dataOn = (channel: ChannelRecord): HubMessage[] =>
  channel.received.flatMap((m) => {
    const message = (m as InboxMessage | undefined)?.message as { welcome?: unknown; kind?: string } | undefined;
    return message && ('welcome' in message || HUB_KINDS.has(message.kind!)) ? [decodeHubMessage(message)!] : [];
  });
const framesOn = (channel: ChannelRecord): Frame[] => dataOn(channel).flatMap((d) => (d.kind === 'frames' ? d.frames : []));
const eventsOn = (channel: ChannelRecord): WireEvent[] => framesOn(channel).flatMap((f) => ('events' in f ? f.events : []));
/** Subscriptions a leader was asked for on its inbox. */
const requestsOn = (channel: ChannelRecord): SubscribeRequest[] =>
  channel.received.flatMap((m) => {
    const message = (m as InboxMessage | undefined)?.message as TabMessage | undefined;
    if (message?.kind !== 'subscribe') return [];
    const { kind: _, ...request } = message;
    return [request];
  });

// The leader runs its own hub, whose upstreams the fake server stands in for.
const connect = (options: UpstreamOptions) => server.connect(options);
const tabs = <const Agents extends readonly string[]>(...agents: Agents) => openTabs(platform, { connect }, ...agents);

/** Until every subscriber stands at `id`. */
const allAt = (subscribers: Recorder[], id: string) => until(() => subscribers.every((s) => s.at.id === id), `every position at ${id}`);

describe('leader election', () => {
  it('tabs of one group elect one leader and share one upstream; each follower gets its frames on its own inbox only', async () => {
    install();
    const [a, b, c] = await tabs('A', 'B', 'C');
    const sa = a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder({ types: ['rare'] }), group());
    const sc = c.subscribe(recorder(), group());
    expect(group()(a).sharing).toBe('leader');
    await until(() => [sa, sb, sc].every((s) => s.state === 'open'), 'every subscriber open');
    server.publish('rare');
    for (let i = 0; i < 5; i++) server.publish('common');
    await allAt([sa, sb, sc], '6');
    await settle();
    expect(server.upstreams).toHaveLength(1);
    expect(server.upstreams[0]!.agent).toBe('A');
    expect(sa.ids).toEqual(server.ids());
    expect(sc.ids).toEqual(server.ids());
    expect(sb.ids).toEqual(['1']);
    expect(sb.at).toEqual(sa.at);
    expect(sc.at).toEqual(sa.at);
    // B and C queue for the leadership, in order.
    expect(platform.locks.waiting(leaderLock())).toEqual(['B', 'C']);

    // Addressed delivery: each inbox got hub data from the leader only, and only its own frames.
    const leader = idOf(a);
    for (const tab of [b, c]) {
      const inbox = inboxOf(tab);
      expect(inbox.received.every((m) => (m as InboxMessage).from === leader)).toBe(true);
    }
    expect(eventsOn(inboxOf(b)).map((e) => e.id)).toEqual(['1']);
    expect(eventsOn(inboxOf(c)).map((e) => e.id)).toEqual(server.ids());
    // Every frame on an inbox was for that tab's subscriber: none was dropped as someone else's.
    expect(framesOn(inboxOf(b))).toHaveLength(sb.positions.length + sb.statuses.length + sb.tabs.length);
    expect(framesOn(inboxOf(c))).toHaveLength(sc.positions.length + sc.statuses.length + sc.tabs.length);
    // The leader's subscriber is served in its own realm: nothing on its inbox.
    expect(dataOn(inboxOf(a))).toEqual([]);
    // The group channel carries announcements only.
    const groupChannels = platform.channels.filter((ch) => ch.name === `${NAMESPACE}:${GROUP}:group`);
    expect(groupChannels).toHaveLength(3);
    for (const ch of groupChannels) {
      for (const m of ch.received) expect(['who', 'leader']).toContain((m as { kind: string }).kind);
    }
  });

  it('tabs that start together still elect one leader, and every follower finds it', async () => {
    install();
    const [a, b, c] = await tabs('A', 'B', 'C');
    const subscribers = [a, b, c].map((t) => t.subscribe(recorder(), group()));
    await until(() => subscribers.every((s) => s.state === 'open'), 'every subscriber open');
    server.publish();
    await allAt(subscribers, '1');
    expect(server.upstreams).toHaveLength(1);
    const leader = leaderOf()!;
    expect(['A', 'B', 'C']).toContain(leader);
    expect(platform.locks.waiting(leaderLock()).sort()).toEqual(['A', 'B', 'C'].filter((t) => t !== leader));
    for (const s of subscribers) expect(s.ids).toEqual(['1']);
  });

  it("a follower's filter change and close reach the leader's hub; its last close ends a stream only it used at once", async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder({ types: ['x'] }), group());
    const own = b.subscribe(recorder({ spec: spec({ url: 'https://example.test/only-b' }) }), group());
    await until(() => sb.state === 'open' && own.state === 'open', 'B to be served');
    server.publish('y');
    server.publish('x');
    await allAt([sb], '2');
    sb.types = ['x', 'y'];
    b.run(() => sb.subscription!.update({ types: ['x', 'y'] }));
    await settle();
    server.publish('y');
    await allAt([sb], '3');
    expect(sb.ids).toEqual(['2', '3']);
    const onlyB = server.upstreams.find((u) => u.options.url === 'https://example.test/only-b')!;
    b.run(() => own.subscription!.close());
    await until(() => onlyB.closed, 'the upstream only B used to close');
  });

  it("a tab whose last client closes leaves the group for good, unless it leads followers: no lock request, channel or listener is left", async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    const sa = a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder(), group());
    await until(() => [sa, sb].every((s) => s.state === 'open'), 'both open');
    const heldBy = (agent: string) => platform.locks.snapshot().held.filter((l) => l.clientId === agent).map((l) => l.name);
    const waitingOf = (agent: string) => platform.locks.snapshot().pending.filter((l) => l.clientId === agent).map((l) => l.name);
    const openChannels = (agent: string) => platform.channels.filter((c) => c.agent === agent && !c.closed).length;
    // A's own client closes, but B follows it: it keeps leading.
    a.run(() => sa.subscription!.close());
    await settle();
    expect(leaderOf()).toBe('A');
    // B's last client closes: B leaves, and then A, serving no one, leaves too.
    b.run(() => sb.subscription!.close());
    await settle();
    for (const agent of ['A', 'B']) {
      expect(heldBy(agent)).toEqual([]);
      expect(waitingOf(agent)).toEqual([]);
      expect(openChannels(agent)).toBe(0);
    }
    // A new client of the group starts afresh.
    const again = a.subscribe(recorder(), group());
    await until(() => again.state === 'open', 'open again');
    expect(leaderOf()).toBe('A');
  });

  it('a lone leader back from the back/forward cache leads again and resumes from its position', async () => {
    install();
    const [a] = await tabs('A');
    const sa = a.subscribe(recorder(), group());
    await until(() => sa.state === 'open', 'A to be served');
    server.publish();
    await allAt([sa], '1');
    platform.pagehide('A');
    expect(server.upstreams[0]!.closed).toBe(true);
    server.publish();
    platform.pageshow('A');
    await until(() => leaderOf() === 'A' && server.upstreams.length === 2, 'A to lead again');
    expect(server.upstreams[1]!.lastEventId).toBe('1');
    await allAt([sa], '2');
    expect(sa.ids).toEqual(['1', '2']);
    expect(sa.state).toBe('open');
  });

  it("the leader asks a follower's headers provider through the follower's inbox", async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder({ headers: async () => ({ Authorization: 'Bearer B' }) }), group());
    await until(() => sb.state === 'open', 'B to be served');
    await expect(server.upstreams[0]!.headers()).resolves.toEqual({ Authorization: 'Bearer B' });
    expect(sb.headersCalls).toBe(1);
  });

  it('the leader closes: the next tab takes over, every follower resumes from its position, nothing lost or doubled', async () => {
    install();
    const [a, b, c] = await tabs('A', 'B', 'C');
    const sa = a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder({ types: ['rare'] }), group());
    await until(() => platform.locks.waiting(leaderLock()).includes('B'), 'B to queue');
    const sc = c.subscribe(recorder(), group());
    await until(() => [sa, sb, sc].every((s) => s.state === 'open'), 'every subscriber open');
    for (let i = 1; i <= 10; i++) server.publish(i === 4 ? 'rare' : 'common');
    await allAt([sa, sb, sc], '10');

    platform.closePage('A');
    // The leader let its upstream go at once.
    expect(server.upstreams[0]!.closed).toBe(true);
    // The server goes on during the takeover.
    server.publish('common');
    server.publish('rare');
    await until(() => leaderOf() === 'B', 'B to lead');
    await until(() => server.upstreams.length === 2, 'the new upstream');
    expect(server.upstreams[1]!.agent).toBe('B');
    expect(server.upstreams[1]!.lastEventId).toBe('10');
    await allAt([sb, sc], '12');
    // C resubscribed to B from where it stood.
    expect(requestsOn(inboxOf(b)).map((r) => r.position)).toEqual([{ id: '10', count: 10, lineage: sa.at.lineage }]);
    for (let i = 13; i <= 16; i++) server.publish(i === 15 ? 'rare' : 'common');
    await allAt([sb, sc], '16');
    await settle();
    expect(sc.ids).toEqual(server.ids());
    expect(sb.ids).toEqual(['4', '12', '15']);
    expect(states(sc)).toContain('reconnecting');
    expect(sc.state).toBe('open');
    expect(sb.state).toBe('open');
    expect(server.upstreams).toHaveLength(2);
    expect(server.live()).toHaveLength(1);
    // C now follows B and queues behind it.
    expect(platform.locks.waiting(leaderLock())).toEqual(['C']);
  });

  it('the leader crashes: followers notice through its lock and the next tab takes over from their positions', async () => {
    install();
    const [a, b, c] = await tabs('A', 'B', 'C');
    const sa = a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder(), group());
    await until(() => platform.locks.waiting(leaderLock()).includes('B'), 'B to queue');
    const sc = c.subscribe(recorder(), group());
    await until(() => [sa, sb, sc].every((s) => s.state === 'open'), 'every subscriber open');
    for (let i = 0; i < 5; i++) server.publish();
    await allAt([sa, sb, sc], '5');
    platform.terminate('A');
    server.publish();
    await until(() => leaderOf() === 'B' && server.upstreams.length === 2, 'B to lead');
    expect(server.upstreams[1]!.lastEventId).toBe('5');
    server.publish();
    await allAt([sb, sc], '7');
    await settle();
    expect(sb.ids).toEqual(server.ids());
    expect(sc.ids).toEqual(server.ids());
  });

  it("the leader's page enters the back/forward cache and comes back: it rejoins as a follower and resumes from its position", async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    const sa = a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder(), group());
    await until(() => [sa, sb].every((s) => s.state === 'open'), 'every subscriber open');
    for (let i = 0; i < 3; i++) server.publish();
    await allAt([sa, sb], '3');

    platform.pagehide('A', { persisted: true });
    expect(sa.state).toBe('reconnecting');
    // It stepped down at once: upstream closed, leadership locks let go (its tab lock stays).
    expect(server.upstreams[0]!.closed).toBe(true);
    await settle();
    expect(platform.locks.snapshot().held.filter((l) => l.clientId === 'A').map((l) => l.name.split(':')[1])).toEqual(['tab']);
    await until(() => leaderOf() === 'B' && server.upstreams[1]?.opened === true, 'B to lead');
    server.publish();
    server.publish();
    await allAt([sb], '5');
    await vi.advanceTimersByTimeAsync(10_000);

    // While cached it closed its channels: nothing was dispatched to it (Chromium would evict it).
    expect(platform.messagesWhileFrozen('A')).toBe(0);
    platform.pageshow('A', { persisted: true });
    await allAt([sa], '5');
    server.publish();
    await allAt([sa, sb], '6');
    await settle();
    expect(sa.ids).toEqual(server.ids());
    expect(sb.ids).toEqual(server.ids());
    expect(sa.state).toBe('open');
    expect(sa.at).toEqual(sb.at);
    // A follows B (its frames come on its inbox) and queues for the leadership again.
    expect(leaderOf()).toBe('B');
    expect(platform.locks.waiting(leaderLock())).toEqual(['A']);
    expect(eventsOn(inboxOf(a)).map((e) => e.id)).toEqual(['4', '5', '6']);
    expect(requestsOn(inboxOf(b)).map((r) => r.position)).toEqual([{ id: '3', count: 3, lineage: sb.at.lineage }]);
    // It caught up from the new leader's memory: no third upstream.
    expect(server.upstreams).toHaveLength(2);
  });

  it('a leader that steps down lets go of its followers: it no longer waits on their tab locks', async () => {
    install();
    const [a, b, c] = await tabs('A', 'B', 'C');
    a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder(), group());
    const sc = c.subscribe(recorder(), group());
    await until(() => [sb, sc].every((s) => s.state === 'open'), 'the followers served');
    const watchedBy = (agent: string) => platform.locks.snapshot().pending.filter((l) => l.clientId === agent && l.name.includes(':tab:'));
    await until(() => watchedBy('A').length === 2, 'A to watch both followers');
    platform.pagehide('A', { persisted: true });
    await until(() => leaderOf() === 'B', 'B to lead');
    await settle();
    expect(watchedBy('A')).toEqual([]);
  });

  it('a follower enters the back/forward cache and comes back: it leaves the queue, then rejoins and resumes from its position', async () => {
    install();
    const [a, b, c] = await tabs('A', 'B', 'C');
    const sa = a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder(), group());
    await until(() => platform.locks.waiting(leaderLock()).includes('B'), 'B to queue');
    const sc = c.subscribe(recorder(), group());
    await until(() => [sa, sb, sc].every((s) => s.state === 'open'), 'every subscriber open');
    server.publish();
    await allAt([sa, sb, sc], '1');

    platform.pagehide('B', { persisted: true });
    expect(sb.state).toBe('reconnecting');
    await settle();
    expect(platform.locks.waiting(leaderLock())).toEqual(['C']);
    server.publish();
    server.publish();
    await allAt([sa, sc], '3');
    expect(platform.messagesWhileFrozen('B')).toBe(0);
    platform.pageshow('B', { persisted: true });
    await allAt([sb], '3');
    server.publish();
    await allAt([sa, sb, sc], '4');
    await settle();
    expect(sb.ids).toEqual(server.ids());
    expect(sb.state).toBe('open');
    expect(platform.locks.waiting(leaderLock())).toEqual(['C', 'B']);
    expect(server.upstreams).toHaveLength(1);
  });

  it('a follower that dies is dropped by the leader: a stream only it used closes after the grace period', async () => {
    install();
    const [a, b] = await tabs('A', 'B');
    a.subscribe(recorder(), group());
    await until(() => leaderOf() === 'A', 'A to lead');
    const sb = b.subscribe(recorder({ spec: spec({ url: 'https://example.test/only-b' }) }), group());
    await until(() => sb.state === 'open', 'B to be served');
    const onlyB = server.upstreams.find((u) => u.options.url === 'https://example.test/only-b')!;
    // The leader watches B's tab lock once B holds it.
    await until(() => platform.locks.snapshot().pending.some((l) => l.clientId === 'A' && l.name.includes(':tab:')), 'A to watch B');
    platform.terminate('B');
    await settle();
    await vi.advanceTimersByTimeAsync(2_999);
    expect(onlyB.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(onlyB.closed).toBe(true);
  });

  for (const order of ['its lock is released before its goodbye arrives', 'its goodbye arrives before its lock is released'] as const) {
    it(`a follower that closes its page (${order}): the leader drops it and keeps nothing open for it`, async () => {
      install();
      const [a, b] = await tabs('A', 'B');
      a.subscribe(recorder(), group());
      await until(() => leaderOf() === 'A', 'A to lead');
      const sb = b.subscribe(recorder({ spec: spec({ url: 'https://example.test/only-b' }) }), group());
      await until(() => sb.state === 'open', 'B to be served');
      await until(() => platform.locks.snapshot().pending.some((l) => l.clientId === 'A' && l.name.includes(':tab:')), 'A to watch B');
      const onlyB = server.upstreams.find((u) => u.options.url === 'https://example.test/only-b')!;
      const toB = `${NAMESPACE}:${GROUP}:inbox:${idOf(b)}`;
      const openToB = () => platform.channels.filter((ch) => ch.agent === 'A' && ch.name === toB && !ch.closed);
      expect(openToB()).toHaveLength(1);
      if (order === 'its lock is released before its goodbye arrives') {
        platform.closePage('B');
      } else {
        platform.pagehide('B', { persisted: false });
        await settle();
        platform.terminate('B');
      }
      await settle();
      // Dropped with the grace period (the page may be reloading)...
      await vi.advanceTimersByTimeAsync(3_000);
      expect(onlyB.closed).toBe(true);
      await settle();
      // ...and forgotten: the leader keeps no channel to a tab that is gone.
      expect(openToB()).toHaveLength(0);
    });
  }

  it('locks that reject (an opaque origin): onLost with sharing-unavailable, for later subscribers too', async () => {
    install();
    platform.locks.refuse = true;
    const [a] = await tabs('A');
    const first = a.subscribe(recorder(), group());
    await until(() => first.lost.length === 1, 'onLost');
    expect(first.lost[0]).toMatchObject({ code: 'sharing-unavailable' });
    const late = a.subscribe(recorder(), group());
    await settle();
    expect(late.lost).toMatchObject([{ code: 'sharing-unavailable' }]);
    expect(server.upstreams).toEqual([]);
  });

  it('without Web Locks no leader can be elected', async () => {
    install({ locks: false });
    const [a] = await tabs('A');
    expect(a.run(() => canElectLeader())).toBe(false);
  });

  it('two groups (two credentials) never share a leader, an upstream or a frame', async () => {
    install();
    const [a, b, c] = await tabs('A', 'B', 'C');
    const one = spec({ credentialsKey: 'k1' });
    const two = spec({ credentialsKey: 'k2' });
    const sa = a.subscribe(recorder({ spec: one }), group('k1'));
    const sb = b.subscribe(recorder({ spec: two }), group('k2'));
    await until(() => leaderOf('k1') === 'A' && leaderOf('k2') === 'B', 'a leader per group');
    const sc = c.subscribe(recorder({ spec: one }), group('k1'));
    await until(() => [sa, sb, sc].every((s) => s.state === 'open'), 'every subscriber open');
    server.publish();
    await allAt([sa, sb, sc], '1');
    expect(server.upstreams.map((u) => u.agent)).toEqual(['A', 'B']);
    expect(server.upstreams.map((u) => u.live)).toEqual([true, true]);
    // C follows A only; B's inbox never heard of C or A.
    expect(inboxOf(c).received.every((m) => (m as InboxMessage).from === idOf(a))).toBe(true);
    expect(inboxOf(b).received).toEqual([]);
    expect(platform.locks.waiting(leaderLock('k1'))).toEqual(['C']);
    expect(platform.locks.waiting(leaderLock('k2'))).toEqual([]);
  });

  it('two releases (two NAMESPACEs) never see each other', async () => {
    install();
    const a = await openTab(platform, 'A', { release: '1.0.0', connect });
    const b = await openTab(platform, 'B', { release: '2.0.0', connect });
    const a2 = await openTab(platform, 'A2', { release: '1.0.0', connect });
    const sa = a.subscribe(recorder(), group());
    const sb = b.subscribe(recorder(), group());
    await until(() => leaderOf(GROUP, `ssemux@1.0.0/${PROTOCOL_VERSION}`) === 'A' && leaderOf(GROUP, `ssemux@2.0.0/${PROTOCOL_VERSION}`) === 'B', 'a leader per release');
    const sa2 = a2.subscribe(recorder(), group());
    await until(() => [sa, sb, sa2].every((s) => s.state === 'open'), 'every subscriber open');
    server.publish();
    await allAt([sa, sb, sa2], '1');
    expect(server.upstreams.map((u) => u.agent)).toEqual(['A', 'B']);
    expect(platform.locks.waiting(leaderLock(GROUP, `ssemux@1.0.0/${PROTOCOL_VERSION}`))).toEqual(['A2']);
    // Not one channel or lock name in common.
    const names = (tab: Tab) => new Set(platform.channels.filter((ch) => ch.agent === tab.agent).map((ch) => ch.name.split(':')[0]));
    expect([...names(a)]).toEqual([`ssemux@1.0.0/${PROTOCOL_VERSION}`]);
    expect([...names(b)]).toEqual([`ssemux@2.0.0/${PROTOCOL_VERSION}`]);
    expect(platform.locks.snapshot().held.filter((l) => l.clientId === 'B').every((l) => l.name.startsWith(`ssemux@2.0.0/${PROTOCOL_VERSION}:`))).toBe(true);
    expect(inboxOf(b).received).toEqual([]);
  });
});
