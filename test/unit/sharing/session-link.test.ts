import { describe, expect, it, vi } from 'vitest';
import { START, type ConnectionStatus, type Filter } from '../../../src/protocol/stream.js';
import type { Frame, SubscribeMessage, TabMessage } from '../../../src/protocol/tab-hub-messages.js';
import type { HeadersInit, StatusError } from '../../../src/protocol/types.js';
import { createSessionLink, type HubSend, type SessionLink } from '../../../src/sharing/session-link.js';
import { recorder, spec } from './helpers.js';

type SubscribeRequest = Omit<SubscribeMessage, 'kind'>;

/** A hub that records what the link asks of it, as calls. */
function fakeSession() {
  const calls: (
    | { kind: 'subscribe'; request: SubscribeRequest }
    | { kind: 'update'; sub: number; filter: Filter }
    | { kind: 'unsubscribe'; sub: number; grace: boolean }
    | { kind: 'detach' }
  )[] = [];
  const messages: TabMessage[] = [];
  const session: HubSend & { calls: typeof calls; messages: TabMessage[]; subscribed(): SubscribeRequest[] } = Object.assign(
    (message: TabMessage) => {
      messages.push(structuredClone(message));
      if (message.kind === 'subscribe') {
        const { kind: _, ...request } = message;
        calls.push({ kind: 'subscribe', request: structuredClone(request) });
      } else if (message.kind === 'update') calls.push({ kind: 'update', sub: message.sub, filter: message.filter });
      else if (message.kind === 'unsubscribe') calls.push({ kind: 'unsubscribe', sub: message.sub, grace: message.grace });
      else if (message.kind === 'detach') calls.push({ kind: 'detach' });
    },
    { calls, messages, subscribed: () => calls.flatMap((c) => (c.kind === 'subscribe' ? [c.request] : [])) },
  );
  return session;
}

/** A page that is visible and never focused, and never changes. */
const PAGE = { visibility: () => ({ visible: true, focusedAt: 0 }), onVisibility() {} };

/** What the hub says to the link: frames. */
const dispatch = (link: SessionLink, frames: Frame[]) => link.receive({ kind: 'frames', frames });

/** The hub asks subscriber `sub`'s provider, as a hub does: it resolves with the tab's answer. */
async function askHeaders(link: SessionLink, sub: number): Promise<HeadersInit> {
  const hub = fakeSession();
  link.use(hub);
  link.receive({ kind: 'ask-headers', call: 7, sub });
  await vi.waitFor(() => expect(hub.messages.some((m) => m.kind === 'headers')).toBe(true));
  const answer = hub.messages.find((m) => m.kind === 'headers')!;
  if (answer.kind !== 'headers' || answer.call !== 7) throw new Error('not an answer to call 7');
  if (answer.error) throw new Error(answer.error.message);
  return answer.headers!;
}

const status = (state: ConnectionStatus['state'], extra: Partial<ConnectionStatus> = {}): ConnectionStatus => ({
  state,
  reason: 'updated',
  transport: 'fetch',
  attempt: 0,
  lastEventId: '',
  ...extra,
});

const ERROR: StatusError = { name: 'RealtimeError', code: 'sharing-unavailable', message: 'The SharedWorker keeps dying' };

describe('createSessionLink', () => {
  it('without a session a subscriber asks for one; with one it subscribes at once, from where it stands', () => {
    const wanted = vi.fn();
    const link = createSessionLink('shared-worker', PAGE, wanted);
    const a = recorder({ types: ['x'] });
    link.link.subscribe(a);
    expect(wanted).toHaveBeenCalledTimes(1);
    const session = fakeSession();
    link.use(session);
    expect(session.subscribed()).toEqual([{ sub: 1, spec: spec(), filter: { types: ['x'] }, position: START, provider: false }]);
    const b = recorder({ headers: async () => ({}) });
    b.at = { id: '7', count: 7, lineage: 'L' };
    link.link.subscribe(b);
    expect(wanted).toHaveBeenCalledTimes(1);
    expect(session.subscribed()[1]).toEqual({ sub: 2, spec: spec(), filter: { types: ['*'] }, position: { id: '7', count: 7, lineage: 'L' }, provider: true });
    expect(link.link.sharing).toBe('shared-worker');
  });

  it('use() resubscribes every subscriber with its current filter and position; closed ones are gone', () => {
    const link = createSessionLink('leader', PAGE, () => {});
    const first = fakeSession();
    link.use(first);
    const a = recorder({ types: ['x'] });
    const b = recorder();
    const c = recorder();
    const subA = link.link.subscribe(a);
    link.link.subscribe(b);
    const subC = link.link.subscribe(c);
    // Deliveries move the positions; a listener is added; one subscriber leaves.
    dispatch(link, [
      { sub: 1, events: [], at: { id: '3', count: 3, lineage: 'L' } },
      { sub: 2, events: [{ type: 'x', data: '', id: '3' }], at: { id: '3', count: 3, lineage: 'L' } },
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
      { sub: 1, spec: spec(), filter: { types: ['x', 'y'] }, position: { id: '3', count: 3, lineage: 'L' }, provider: false },
      { sub: 2, spec: spec(), filter: { types: ['*'] }, position: { id: '3', count: 3, lineage: 'L' }, provider: false },
    ]);
    expect(link.hub).toBe(second);
    // The old session hears nothing more.
    subA.update({ types: ['z'] });
    expect(first.calls).toHaveLength(5);
    expect(second.calls.at(-1)).toEqual({ kind: 'update', sub: 1, filter: { types: ['z'] } });
  });

  it('use() leaves a stream the server closed for good closed (a 204): the next hub is not asked for it', () => {
    const link = createSessionLink('shared-worker', PAGE, () => {});
    link.use(fakeSession());
    const a = recorder();
    const b = recorder();
    link.link.subscribe(a);
    link.link.subscribe(b);
    dispatch(link, [{ sub: 1, status: status('closed', { reason: 'refused', error: { name: 'RealtimeError', code: 'no-content', message: '204', status: 204 } }) }]);
    // A worker restarts, or the page comes back from the back/forward cache.
    link.lost();
    const next = fakeSession();
    link.use(next);
    expect(next.subscribed().map((request) => request.sub)).toEqual([2]);
    expect(a.statuses.map((s) => s.state)).toEqual(['closed']);
  });

  it('a subscribe the hub refused (failed, naming it, before any status) hands the subscriber to the next mode with its code', () => {
    const link = createSessionLink('shared-worker', PAGE, () => {});
    link.use(fakeSession());
    const a = recorder();
    const b = recorder();
    link.link.subscribe(a);
    link.link.subscribe(b);
    dispatch(link, [{ sub: 2, status: status('open') }]);
    const error: StatusError = { name: 'RealtimeError', code: 'invalid-options', message: 'the hub cannot serve this spec' };
    link.receive({ kind: 'failed', sub: 1, error });
    expect(a.lost).toEqual([error]);
    // One that has a status hears it as a report; a failure naming no subscriber loses none.
    link.receive({ kind: 'failed', error });
    expect(b.lost).toEqual([]);
    expect(b.statuses.at(-1)).toMatchObject({ state: 'open', reason: 'reported', error });
    expect(link.size).toBe(1);
  });

  it('while no hub serves it, a change of filter waits for the next session; a close is not resubscribed', () => {
    const link = createSessionLink('shared-worker', PAGE, () => {});
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
    const link = createSessionLink('shared-worker', PAGE, () => {});
    link.use(fakeSession());
    const open = recorder();
    const connecting = recorder();
    const silent = recorder();
    const closed = recorder();
    for (const r of [open, connecting, silent, closed]) link.link.subscribe(r);
    dispatch(link, [
      { sub: 1, status: status('open', { lastEventId: '4' }) },
      { sub: 2, status: status('reconnecting', { retryInMs: 500 }) },
      { sub: 2, status: status('connecting', { attempt: 2 }) },
      { sub: 4, status: status('closed') },
    ]);
    link.lost();
    link.lost();
    expect(open.statuses.slice(1)).toEqual([status('reconnecting', { lastEventId: '4', reason: 'hub-lost' })]);
    expect(connecting.statuses.slice(2)).toEqual([status('reconnecting', { attempt: 2, reason: 'hub-lost' })]);
    expect(connecting.statuses.at(-1)).not.toHaveProperty('retryInMs');
    expect(silent.statuses).toEqual([]);
    expect(closed.statuses).toEqual([status('closed')]);
    expect(link.hub).toBeUndefined();
    // A new hub's status, then another loss: reconnecting again, once.
    link.use(fakeSession());
    dispatch(link, [{ sub: 1, status: status('open') }]);
    link.lost();
    expect(open.statuses.map((s) => s.state)).toEqual(['open', 'reconnecting', 'open', 'reconnecting']);
  });

  it('fail() hands every subscriber to the next mode; later subscribers are handed over too, and nothing is asked of a hub', async () => {
    const wanted = vi.fn();
    const link = createSessionLink('shared-worker', PAGE, wanted);
    const session = fakeSession();
    link.use(session);
    const a = recorder();
    const b = recorder();
    const subA = link.link.subscribe(a);
    link.link.subscribe(b);
    link.fail(ERROR.code, ERROR.message);
    expect(a.lost).toEqual([ERROR]);
    expect(b.lost).toEqual([ERROR]);
    expect(link.hub).toBeUndefined();
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
    const link = createSessionLink('none', PAGE, () => {});
    link.use(fakeSession());
    const a = recorder();
    const b = recorder();
    link.link.subscribe(a);
    const subB = link.link.subscribe(b);
    subB.close();
    dispatch(link, [
      { sub: 1, events: [{ type: 'm', data: '1', id: '1' }], at: { id: '1', count: 1, lineage: 'L' } },
      { sub: 2, events: [{ type: 'm', data: '1', id: '1' }], at: { id: '1', count: 1, lineage: 'L' } },
      { sub: 9, events: [{ type: 'm', data: '1', id: '1' }], at: { id: '1', count: 1, lineage: 'L' } },
      { sub: 1, events: [{ type: 'm', data: '2', id: '2' }], at: { id: '2', count: 2, lineage: 'L' } },
    ]);
    expect(a.ids).toEqual(['1', '2']);
    expect(a.positions).toEqual([
      { id: '1', count: 1, lineage: 'L' },
      { id: '2', count: 2, lineage: 'L' },
    ]);
    expect(b.events).toEqual([]);
  });

  it("asks a subscriber's own headers provider; one without a provider, or gone, is refused (the hub's call rejects)", async () => {
    const link = createSessionLink('shared-worker', PAGE, () => {});
    link.link.subscribe(recorder({ headers: async () => ({ Authorization: 'Bearer a' }) }));
    link.link.subscribe(recorder());
    await expect(askHeaders(link, 1)).resolves.toEqual({ Authorization: 'Bearer a' });
    // The hub's question is answered with an error: its call rejects.
    await expect(askHeaders(link, 2)).rejects.toThrow();
    await expect(askHeaders(link, 3)).rejects.toThrow();
  });
});
