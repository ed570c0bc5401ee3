// @vitest-environment happy-dom
// useRealtimeLatest's stores, one per client and type, at their bound of 32 idle ones: a store a
// render handed out must not be evicted before its component subscribes (other readers going
// idle in the same commit), or the component reads one store while subscribed to another.
import { act } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Listener, RealtimeClient, RealtimeMessage } from '../../src/index.js';
type ListenOptionsLike = { latest?: boolean; tabs?: 'all' | 'one'; signal?: AbortSignal };
import { useRealtimeLatest } from '../../src/react/index.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/**
 * A client as the real one behaves for these hooks: `on(type, fn, { latest: true })` is answered
 * (asynchronously, a hub round trip) with the last event of that type, marked `latest`.
 */
function fakeClient() {
  const listeners = new Map<string, Set<Listener>>();
  const last = new Map<string, RealtimeMessage>();
  const ons: string[] = [];
  let nextId = 0;
  const client = {
    on(type: string, listener: Listener, options?: ListenOptionsLike) {
      ons.push(type);
      let set = listeners.get(type);
      if (!set) listeners.set(type, (set = new Set()));
      set.add(listener);
      if (options?.latest) {
        queueMicrotask(() => {
          const message = last.get(type);
          if (message && set.has(listener)) listener({ ...message, latest: true });
        });
      }
      return () => void set.delete(listener);
    },
    status: { state: 'connecting', reason: 'started', transport: 'fetch', sharing: 'none', attempt: 0, lastEventId: '' },
    onStatus: () => () => {},
    tabs: { count: 0, visible: 0 },
    onTabs: () => () => {},
    setTopics() {},
    close() {},
  } as unknown as RealtimeClient;
  return {
    client,
    ons,
    emit(type: string, data: unknown) {
      const message: RealtimeMessage = { type, data, text: JSON.stringify(data), lastEventId: String(++nextId) };
      last.set(type, message);
      for (const l of [...(listeners.get(type) ?? [])]) l(message);
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

it('useRealtimeLatest: a component that switches to a remembered type in the commit that idles two others shows each event, with one subscription', async () => {
  const fake = fakeClient();
  const rendered: string[] = [];
  function Job({ type, log = false }: { type: string; log?: boolean }) {
    const value = useRealtimeLatest(fake.client, type) as { n: number } | undefined;
    const shown = value === undefined ? '-' : String(value.n);
    if (log) rendered.push(shown);
    return <i>{shown}</i>;
  }
  const flush = () => act(async () => {});

  // A detail panel (first Job) and a side panel (second Job). The user looked at job 'b', then at
  // 31 other jobs one at a time (job-${id} types: what the bound of 32 idle stores is for).
  act(() => root.render(<><Job type="b" /><Job type="side" /></>));
  act(() => fake.emit('b', { n: 1 }));
  for (let i = 0; i < 31; i++) {
    act(() => root.render(<><Job type={`x${i}`} /><Job type="side" /></>));
    act(() => fake.emit(`x${i}`, { n: 100 + i }));
  }
  await flush();

  // One commit: back to job 'b' (still remembered: its value shows at once) and the side panel closes.
  act(() => root.render(<><Job type="b" log /></>));
  await flush();
  expect(container.textContent).toBe('1');
  const subscriptionsOfB = fake.ons.filter((t) => t === 'b').length;

  // Live events of 'b': the render after each event shows that event's value, and the component
  // keeps the one subscription it has.
  const seen: Record<number, string[]> = {};
  for (let n = 2; n <= 4; n++) {
    rendered.length = 0;
    act(() => fake.emit('b', { n }));
    await flush();
    seen[n] = [...rendered];
  }
  const resubscribed = fake.ons.filter((t) => t === 'b').length - subscriptionsOfB;
  expect({ seen, resubscribed }).toEqual({ seen: { 2: ['2'], 3: ['3'], 4: ['4'] }, resubscribed: 0 });
});
