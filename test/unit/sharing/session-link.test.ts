import { describe, expect, it, vi } from 'vitest';
import type { SubscribeRequest } from '../../../src/protocol/messages.js';
import { START, type ConnectionStatus, type Filter } from '../../../src/protocol/stream.js';
import type { StatusError } from '../../../src/protocol/types.js';
import { createSessionLink, type Session } from '../../../src/sharing/session-link.js';
import { recorder, spec } from './helpers.js';

/** A session that records what the link asks of its hub. */
function fakeSession() {
  const calls: (
    | { kind: 'subscribe'; request: SubscribeRequest }
    | { kind: 'update'; sub: number; filter: Filter }
    | { kind: 'unsubscribe'; sub: number; grace: boolean }
    | { kind: 'detach' }
  )[] = [];
  const session: Session & { calls: typeof calls; subscribed(): SubscribeRequest[] } = {
    calls,
    subscribed: () => calls.flatMap((c) => (c.kind === 'subscribe' ? [c.request] : [])),
    subscribe: (request) => void calls.push({ kind: 'subscribe', request: structuredClone(request) }),
    update: (sub, filter) => void calls.push({ kind: 'update', sub, filter }),
    unsubscribe: (sub, grace) => void calls.push({ kind: 'unsubscribe', sub, grace }),
    detach: () => void calls.push({ kind: 'detach' }),
  };
  return session;
}

const status = (state: ConnectionStatus['state'], extra: Partial<ConnectionStatus> = {}): ConnectionStatus => ({
  state,
  transport: 'fetch',
  attempt: 0,
  lastEventId: '',
  ...extra,
});

const ERROR: StatusError = { name: 'RealtimeError', code: 'sharing-unavailable', message: 'The SharedWorker keeps dying' };

describe('createSessionLink', () => {
  it('without a session a subscriber asks for one; with one it subscribes at once, from where it stands', () => {
    const wanted = vi.fn();
    const link = createSessionLink('shared-worker', wanted);
    const a = recorder({ types: ['x'] });
    link.link.subscribe(a);
    expect(wanted).toHaveBeenCalledTimes(1);
    const session = fakeSession();
    link.use(session);
    expect(session.subscribed()).toEqual([{ sub: 1, spec: spec(), filter: { types: ['x'] }, position: START, provider: false }]);
    const b = recorder({ headers: async () => ({}) });
    b.at = { id: '7', n: 7, l: 'L' };
    link.link.subscribe(b);
    expect(wanted).toHaveBeenCalledTimes(1);
    expect(session.subscribed()[1]).toEqual({ sub: 2, spec: spec(), filter: { types: ['*'] }, position: { id: '7', n: 7, l: 'L' }, provider: true });
    expect(link.link.sharing).toBe('shared-worker');
  });

  it('use() resubscribes every subscriber with its current filter and position; closed ones are gone', () => {
    const link = createSessionLink('leader', () => {});
    const first = fakeSession();
    link.use(first);
    const a = recorder({ types: ['x'] });
    const b = recorder();
    const c = recorder();
    const subA = link.link.subscribe(a);
    link.link.subscribe(b);
    const subC = link.link.subscribe(c);
    // Deliveries move the positions; a listener is added; one subscriber leaves.
    link.dispatch([
      { sub: 1, events: [], at: { id: '3', n: 3, l: 'L' } },
      { sub: 2, events: [{ type: 'x', data: '', id: '3' }], at: { id: '3', n: 3, l: 'L' } },
    ]);
    a.types = ['x', 'y'];
    subA.update({ types: ['x', 'y'] });
    subC.close();
    expect(first.calls.slice(3)).toEqual([
      { kind: 'update', sub: 1, filter: { types: ['x', 'y'] } },
      { kind: 'unsubscribe', sub: 3, grace: false },
    ]);
    link.lost();
    const second = fakeSession();
    link.use(second);
    expect(second.subscribed()).toEqual([
      { sub: 1, spec: spec(), filter: { types: ['x', 'y'] }, position: { id: '3', n: 3, l: 'L' }, provider: false },
      { sub: 2, spec: spec(), filter: { types: ['*'] }, position: { id: '3', n: 3, l: 'L' }, provider: false },
    ]);
    expect(link.session).toBe(second);
    // The old session hears nothing more.
    subA.update({ types: ['z'] });
    expect(first.calls).toHaveLength(5);
    expect(second.calls.at(-1)).toEqual({ kind: 'update', sub: 1, filter: { types: ['z'] } });
  });

  it('while no hub serves it, a change of filter waits for the next session; a close is not resubscribed', () => {
    const link = createSessionLink('shared-worker', () => {});
    const a = recorder({ types: ['x'] });
    const b = recorder();
    const subA = link.link.subscribe(a);
    const subB = link.link.subscribe(b);
    a.types = ['y'];
    subA.update({ types: ['y'] });
    subB.close();
    subB.close();
    const session = fakeSession();
    link.use(session);
    expect(session.calls).toEqual([{ kind: 'subscribe', request: { sub: 1, spec: spec(), filter: { types: ['y'] }, position: START, provider: false } }]);
  });

  it('lost() turns open and connecting subscribers into reconnecting, once; others are left as they are', () => {
    const link = createSessionLink('shared-worker', () => {});
    link.use(fakeSession());
    const open = recorder();
    const connecting = recorder();
    const silent = recorder();
    const closed = recorder();
    for (const r of [open, connecting, silent, closed]) link.link.subscribe(r);
    link.dispatch([
      { sub: 1, status: status('open', { lastEventId: '4' }) },
      { sub: 2, status: status('reconnecting', { retryInMs: 500 }) },
      { sub: 2, status: status('connecting', { attempt: 2 }) },
      { sub: 4, status: status('closed') },
    ]);
    link.lost();
    link.lost();
    expect(open.statuses.slice(1)).toEqual([status('reconnecting', { lastEventId: '4' })]);
    expect(connecting.statuses.slice(2)).toEqual([status('reconnecting', { attempt: 2 })]);
    expect(connecting.statuses.at(-1)).not.toHaveProperty('retryInMs');
    expect(silent.statuses).toEqual([]);
    expect(closed.statuses).toEqual([status('closed')]);
    expect(link.session).toBeUndefined();
    // A new hub's status, then another loss: reconnecting again, once.
    link.use(fakeSession());
    link.dispatch([{ sub: 1, status: status('open') }]);
    link.lost();
    expect(open.statuses.map((s) => s.state)).toEqual(['open', 'reconnecting', 'open', 'reconnecting']);
  });

  it('fail() hands every subscriber to the next mode; later subscribers are handed over too, and nothing is asked of a hub', async () => {
    const wanted = vi.fn();
    const link = createSessionLink('shared-worker', wanted);
    const session = fakeSession();
    link.use(session);
    const a = recorder();
    const b = recorder();
    const subA = link.link.subscribe(a);
    link.link.subscribe(b);
    link.fail(ERROR.code, ERROR.message);
    expect(a.lost).toEqual([ERROR]);
    expect(b.lost).toEqual([ERROR]);
    expect(link.session).toBeUndefined();
    subA.close();
    expect(session.calls.filter((c) => c.kind !== 'subscribe')).toEqual([]);
    const late = recorder();
    const subLate = link.link.subscribe(late);
    // Asynchronously: the caller gets its subscription first.
    expect(late.lost).toEqual([]);
    await Promise.resolve();
    expect(late.lost).toEqual([ERROR]);
    subLate.update({ types: ['x'] });
    subLate.close();
    expect(wanted).not.toHaveBeenCalled();
    expect(a.lost).toHaveLength(1);
  });

  it('hands each frame to its own subscriber, in order; frames of unknown subscriptions are dropped', () => {
    const link = createSessionLink('none', () => {});
    link.use(fakeSession());
    const a = recorder();
    const b = recorder();
    link.link.subscribe(a);
    const subB = link.link.subscribe(b);
    subB.close();
    link.dispatch([
      { sub: 1, events: [{ type: 'm', data: '1', id: '1' }], at: { id: '1', n: 1, l: 'L' } },
      { sub: 2, events: [{ type: 'm', data: '1', id: '1' }], at: { id: '1', n: 1, l: 'L' } },
      { sub: 9, events: [{ type: 'm', data: '1', id: '1' }], at: { id: '1', n: 1, l: 'L' } },
      { sub: 1, events: [{ type: 'm', data: '2', id: '2' }], at: { id: '2', n: 2, l: 'L' } },
    ]);
    expect(a.ids).toEqual(['1', '2']);
    expect(a.positions).toEqual([
      { id: '1', n: 1, l: 'L' },
      { id: '2', n: 2, l: 'L' },
    ]);
    expect(b.events).toEqual([]);
  });

  it("asks a subscriber's own headers provider; one without a provider, or gone, is refused (the hub's call rejects)", async () => {
    const link = createSessionLink('shared-worker', () => {});
    link.link.subscribe(recorder({ headers: async () => ({ Authorization: 'Bearer a' }) }));
    link.link.subscribe(recorder());
    await expect(link.headers(1)).resolves.toEqual({ Authorization: 'Bearer a' });
    // As the hub calls it: through the control plane (a port, a channel) or async (the local link).
    await expect(async () => link.headers(2)).rejects.toThrow();
    await expect(async () => link.headers(3)).rejects.toThrow();
  });
});
