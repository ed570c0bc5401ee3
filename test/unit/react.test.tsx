// @vitest-environment happy-dom
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Listener, RealtimeClient, RealtimeMessage, RealtimeStatus } from '../../src/index.js';
import { useRealtimeEvent, useRealtimeLatest, useRealtimeStatus } from '../../src/react/index.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

type Events = { tick: { n: number }; note: string };

/** A RealtimeClient driven by hand: `emit` delivers an event, `setStatus` changes the status. */
function fakeClient() {
  const listeners = new Map<string, Set<Listener>>();
  const statusListeners = new Set<(s: RealtimeStatus) => void>();
  let status: RealtimeStatus = { state: 'connecting', reason: 'started', transport: 'fetch', sharing: 'shared-worker', attempt: 0, lastEventId: '' };
  let nextId = 0;
  const calls = { on: [] as string[], off: [] as string[] };

  const client = {
    on(type: string, listener: Listener) {
      calls.on.push(type);
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      set.add(listener);
      return () => {
        calls.off.push(type);
        set.delete(listener);
      };
    },
    get status() {
      return status;
    },
    onStatus(listener: (s: RealtimeStatus) => void) {
      statusListeners.add(listener);
      return () => void statusListeners.delete(listener);
    },
    close() {},
  } as RealtimeClient<Events>;

  return {
    client,
    calls,
    listenerCount: (type: string) => listeners.get(type)?.size ?? 0,
    statusListenerCount: () => statusListeners.size,
    emit(type: string, data: unknown, text = JSON.stringify(data)) {
      const message: RealtimeMessage = { type, data, text, lastEventId: String(++nextId) };
      for (const l of [...(listeners.get(type) ?? [])]) l(message);
      for (const l of [...(listeners.get('*') ?? [])]) l(message);
    },
    setStatus(patch: Partial<RealtimeStatus>) {
      status = { ...status, ...patch };
      for (const l of [...statusListeners]) l(status);
    },
  };
}

let container: HTMLElement;
let root: Root;

beforeEach(() => {
  container = document.createElement('div');
  document.body.append(container);
  root = createRoot(container);
});

afterEach(() => {
  act(() => root.unmount());
  container.remove();
});

const render = (node: ReactNode) => act(() => root.render(node));

describe('useRealtimeEvent', () => {
  it('calls the latest handler for each event, subscribing once', () => {
    const fake = fakeClient();
    const seen: string[] = [];
    function Probe({ label }: { label: string }) {
      useRealtimeEvent(fake.client, 'tick', (msg) => seen.push(`${label}:${msg.data.n}:${msg.lastEventId}`));
      return null;
    }
    render(<Probe label="a" />);
    expect(fake.calls.on).toEqual(['tick']);
    act(() => fake.emit('tick', { n: 1 }));
    render(<Probe label="b" />);
    render(<Probe label="c" />);
    act(() => fake.emit('tick', { n: 2 }));
    act(() => fake.emit('note', 'ignored'));
    expect(seen).toEqual(['a:1:1', 'c:2:2']);
    // Re-renders with new handlers did not resubscribe.
    expect(fake.calls.on).toEqual(['tick']);
    expect(fake.calls.off).toEqual([]);
  });

  it("'*' receives every type", () => {
    const fake = fakeClient();
    const seen: string[] = [];
    function Probe() {
      useRealtimeEvent(fake.client, '*', (msg) => seen.push(msg.type));
      return null;
    }
    render(<Probe />);
    act(() => {
      fake.emit('tick', { n: 1 });
      fake.emit('note', 'hi');
    });
    expect(seen).toEqual(['tick', 'note']);
  });

  it('unsubscribes on unmount and resubscribes when the type changes', () => {
    const fake = fakeClient();
    const seen: string[] = [];
    function Probe({ type }: { type: 'tick' | 'note' }) {
      useRealtimeEvent(fake.client, type, (msg) => seen.push(msg.type));
      return null;
    }
    render(<Probe type="tick" />);
    expect(fake.listenerCount('tick')).toBe(1);
    render(<Probe type="note" />);
    expect(fake.listenerCount('tick')).toBe(0);
    expect(fake.listenerCount('note')).toBe(1);
    render(null);
    expect(fake.listenerCount('note')).toBe(0);
    expect(fake.calls).toEqual({ on: ['tick', 'note'], off: ['tick', 'note'] });
    act(() => fake.emit('note', 'after unmount'));
    expect(seen).toEqual([]);
  });
});

describe('useRealtimeLatest', () => {
  it('is undefined before any event, then re-renders only when the value changes', () => {
    const fake = fakeClient();
    let renders = 0;
    function Probe() {
      renders++;
      const tick = useRealtimeLatest(fake.client, 'tick');
      return <span>{tick === undefined ? 'none' : String(tick.n)}</span>;
    }
    render(<Probe />);
    expect(container.textContent).toBe('none');
    expect(renders).toBe(1);

    act(() => fake.emit('tick', { n: 1 }));
    expect(container.textContent).toBe('1');
    expect(renders).toBe(2);

    // The same value again (a new object parsed from the same text): no render.
    act(() => fake.emit('tick', { n: 1 }));
    expect(renders).toBe(2);
    act(() => fake.emit('note', 'other type'));
    expect(renders).toBe(2);

    act(() => fake.emit('tick', { n: 2 }));
    expect(container.textContent).toBe('2');
    expect(renders).toBe(3);
  });

  it('does not re-render for the identical primitive', () => {
    const fake = fakeClient();
    let renders = 0;
    function Probe() {
      renders++;
      return <span>{useRealtimeLatest(fake.client, 'note') ?? '-'}</span>;
    }
    render(<Probe />);
    act(() => fake.emit('note', 'hello', 'hello'));
    act(() => fake.emit('note', 'hello', 'hello'));
    expect(container.textContent).toBe('hello');
    expect(renders).toBe(2);
  });

  it('shares one subscription per client and type, and drops it after the last reader unmounts', () => {
    const fake = fakeClient();
    function Probe() {
      const tick = useRealtimeLatest(fake.client, 'tick');
      return <i>{tick?.n ?? '-'}</i>;
    }
    render(
      <>
        <Probe />
        <Probe />
      </>,
    );
    expect(fake.listenerCount('tick')).toBe(1);
    act(() => fake.emit('tick', { n: 7 }));
    expect(container.textContent).toBe('77');
    render(null);
    expect(fake.listenerCount('tick')).toBe(0);
    // A later reader starts from the value seen last.
    render(<Probe />);
    expect(container.textContent).toBe('7');
    expect(fake.listenerCount('tick')).toBe(1);
  });

  it('types read on the fly do not pile up: idle stores keep their value for the 32 latest types only', () => {
    const fake = fakeClient();
    function Probe({ type }: { type: string }) {
      return <i>{String((useRealtimeLatest(fake.client, type as 'tick') as { n: number } | undefined)?.n ?? '-')}</i>;
    }
    for (let i = 0; i < 40; i++) {
      render(<Probe type={`job-${i}`} />);
      act(() => fake.emit(`job-${i}`, { n: i }));
    }
    render(null);
    // The latest type read comes back with its value; the first of 40 was let go.
    render(<Probe type="job-39" />);
    expect(container.textContent).toBe('39');
    render(<Probe type="job-8" />);
    expect(container.textContent).toBe('8');
    render(<Probe type="job-0" />);
    expect(container.textContent).toBe('-');
  });

  it('keeps separate values per client', () => {
    const a = fakeClient();
    const b = fakeClient();
    function Probe({ client }: { client: RealtimeClient<Events> }) {
      return <b>{useRealtimeLatest(client, 'tick')?.n ?? '-'}</b>;
    }
    render(
      <>
        <Probe client={a.client} />
        <Probe client={b.client} />
      </>,
    );
    act(() => a.emit('tick', { n: 1 }));
    expect(container.textContent).toBe('1-');
    act(() => b.emit('tick', { n: 2 }));
    expect(container.textContent).toBe('12');
  });
});

describe('useRealtimeStatus', () => {
  it('follows onStatus and unsubscribes on unmount', () => {
    const fake = fakeClient();
    let renders = 0;
    function Probe() {
      renders++;
      const status = useRealtimeStatus(fake.client);
      return <span>{`${status.state}/${status.attempt}`}</span>;
    }
    render(<Probe />);
    expect(container.textContent).toBe('connecting/0');
    expect(fake.statusListenerCount()).toBe(1);

    act(() => fake.setStatus({ state: 'open' }));
    expect(container.textContent).toBe('open/0');
    act(() => fake.setStatus({ state: 'reconnecting', attempt: 1, retryInMs: 500 }));
    expect(container.textContent).toBe('reconnecting/1');
    expect(renders).toBe(3);

    render(null);
    expect(fake.statusListenerCount()).toBe(0);
  });
});
