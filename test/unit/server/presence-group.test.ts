// The presence of several servers of one group, driven directly over an in-process group
// (createLocalGroup, what memoryStore uses): what happens when a member is taken for dead, comes
// back, or the store does not take a notice.
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalGroup } from '../../../src/server/local-group.js';
import { createPresence, type Presence } from '../../../src/server/presence.js';
import type { StoreMembership } from 'ssemux/server';
import { eventually } from './helpers.js';

const made: Presence[] = [];
afterEach(async () => {
  for (const presence of made.splice(0)) await presence.close();
});

/** A presence joined to `group`, as a server is once its store link has joined. */
function member(
  group: ReturnType<typeof createLocalGroup>,
  options: { graceMs?: number; reconcileMs?: number; wrap?: (membership: StoreMembership) => StoreMembership } = {},
) {
  const presence = createPresence({ graceMs: options.graceMs ?? 0, batchMs: 5, maxMembers: 100, syncTimeoutMs: 500, retryMs: 20, reconcileMs: options.reconcileMs ?? 60_000 });
  made.push(presence);
  const membership = group.join({
    receive: (message) => presence.receive(message) ?? null,
    memberGone: (id) => presence.memberGone(id),
    rejoined: () => presence.rejoined(),
  });
  const joined = options.wrap ? options.wrap(membership) : membership;
  presence.joined(joined);
  return { presence, id: membership.id, membership };
}

const users = (presence: Presence, topic = 'room') => presence.of(topic).members.map(({ user, browsers }) => `${user}:${browsers}`);

describe('presence over a group of servers', () => {
  it('adds what each member counts, and takes a member that left back', async () => {
    const group = createLocalGroup();
    const a = member(group);
    const b = member(group);
    const releaseA = a.presence.count('alice', ['room']);
    b.presence.count('alice', ['room']);
    b.presence.count(undefined, ['room']);
    await eventually(() => users(a.presence), (list) => expect(list).toEqual(['alice:2']));
    expect(a.presence.of('room').anonymous).toBe(1);
    await eventually(() => users(b.presence), (list) => expect(list).toEqual(['alice:2']));
    releaseA();
    await eventually(() => users(b.presence), (list) => expect(list).toEqual(['alice:1']));
    await b.presence.close();
    await eventually(() => a.presence.of('room'), (presence) => expect(presence).toEqual({ members: [], anonymous: 0 }));
  });

  it('gives a member that joins later what the others have', async () => {
    const group = createLocalGroup();
    const a = member(group);
    a.presence.count('alice', ['room', 'hall']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const late = member(group);
    await late.presence.synced();
    expect(users(late.presence)).toEqual(['alice:1']);
    expect(users(late.presence, 'hall')).toEqual(['alice:1']);
  });

  it("drops a member reported gone, tells the others, and takes it back when it says it is alive", async () => {
    const group = createLocalGroup();
    const a = member(group);
    const b = member(group);
    const c = member(group);
    b.presence.count('bob', ['room']);
    await eventually(() => [users(a.presence), users(c.presence)], (lists) => expect(lists).toEqual([['bob:1'], ['bob:1']]));
    // Only a is told (its renewal dropped b's lease): it drops b and tells c; b hears it too and,
    // being alive (cut off for a while), sends everything again.
    const heard: unknown[] = [];
    const spy = group.join({ receive: (message) => void heard.push(message) });
    a.presence.memberGone(b.id);
    expect(users(a.presence)).toEqual([]);
    // The others hear it before b's answer to it, in the order sent.
    await eventually(() => heard, (list) => expect(list).toEqual([{ type: 'presence-gone', member: b.id }, { type: 'presence', member: b.id, whole: true, entries: [['room', 'bob', 1]] }]));
    await spy.leave();
    await eventually(() => [users(a.presence), users(c.presence)], (lists) => expect(lists).toEqual([['bob:1'], ['bob:1']]));
  });

  it('sends everything again when the store did not take a notice', async () => {
    const group = createLocalGroup();
    const a = member(group);
    let failures = 2;
    const b = member(group, {
      wrap: (membership) => ({
        ...membership,
        id: membership.id,
        notify: (message) => (failures-- > 0 ? Promise.reject(new Error('store away')) : membership.notify(message)),
      }),
    });
    b.presence.count('bob', ['room']);
    b.presence.count('carl', ['room']);
    await eventually(() => users(a.presence), (list) => expect(list).toEqual(['bob:1', 'carl:1']));
    expect(failures).toBeLessThan(0);
  });

  it('sends everything again on rejoining, to members that had dropped it', async () => {
    const group = createLocalGroup();
    const a = member(group);
    const b = member(group);
    b.presence.count('bob', ['room']);
    await eventually(() => users(a.presence), (list) => expect(list).toEqual(['bob:1']));
    // a drops b without telling anyone (as an instance that heard of b's lease ending would).
    a.presence.receive({ type: 'presence-gone', member: b.id });
    expect(users(a.presence)).toEqual([]);
    b.presence.rejoined();
    await eventually(() => users(a.presence), (list) => expect(list).toEqual(['bob:1']));
  });

  it('drops, within its reconcile period, the counts of a server no longer in the group whose death nobody told', async () => {
    const group = createLocalGroup();
    const a = member(group, { reconcileMs: 50 });
    const b = member(group);
    b.presence.count('bob', ['room']);
    await eventually(() => users(a.presence), (list) => expect(list).toEqual(['bob:1']));
    // Out of the group without a word (as a Redis member whose lease a member that then died dropped).
    await b.membership.leave();
    await eventually(() => users(a.presence), (list) => expect(list).toEqual([]), 2_000);
  });

  it('writes one event per topic and window, naming the change only when one identity changed', async () => {
    const group = createLocalGroup();
    const a = member(group);
    const texts: string[] = [];
    a.presence.watch({ topics: ['room'], send: (text) => void texts.push(text) });
    a.presence.count('bob', ['room']);
    await eventually(() => texts.length, (n) => expect(n).toBe(1));
    a.presence.count('carl', ['room']);
    a.presence.count('dora', ['room']);
    await eventually(() => texts.length, (n) => expect(n).toBe(2));
    expect(texts).toEqual([
      'event: ssemux:presence\ndata: room\ndata: {"members":[{"user":"bob","browsers":1}],"anonymous":0,"change":{"user":"bob","browsers":1}}\n\n',
      'event: ssemux:presence\ndata: room\ndata: {"members":[{"user":"bob","browsers":1},{"user":"carl","browsers":1},{"user":"dora","browsers":1}],"anonymous":0}\n\n',
    ]);
    // A count that goes and comes back within one window is no change.
    const release = a.presence.count('erin', ['room']);
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(texts).toHaveLength(2);
  });

  it('holds a fall for the grace after the last fall, and a rise within it cancels it', async () => {
    const group = createLocalGroup();
    const a = member(group, { graceMs: 200 });
    const first = a.presence.count('bob', ['room']);
    const second = a.presence.count('bob', ['room']);
    first();
    await new Promise((resolve) => setTimeout(resolve, 120));
    second();
    await new Promise((resolve) => setTimeout(resolve, 120));
    // 240 ms after the first fall, 120 ms after the last: still shown.
    expect(users(a.presence)).toEqual(['bob:2']);
    a.presence.count('bob', ['room']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(users(a.presence)).toEqual(['bob:1']);
  });
});
