import { useEffect, useRef, useState } from 'react';
import { useRealtimeEvent } from 'ssemux/react';
import type { DemoClient, DemoEvents } from '../client';

type Toast = DemoEvents['notification'] & { key: number };

const TOAST_MS = 5000;

/** `notification` events, in the header, each for 5 s; the newest first. */
export function Toasts({ client }: { client: DemoClient }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const nextKey = useRef(0);

  const dismiss = (key: number) => {
    clearTimeout(timers.current.get(key));
    timers.current.delete(key);
    setToasts((prev) => prev.filter((t) => t.key !== key));
  };

  useRealtimeEvent(client, 'notification', ({ data }) => {
    const key = ++nextKey.current;
    setToasts((prev) => [{ ...data, key }, ...prev].slice(0, 2));
    timers.current.set(key, setTimeout(() => dismiss(key), TOAST_MS));
  });

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    };
  }, []);

  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.key} className={`toast level-${t.level}`} data-testid="toast" role="status">
          <div className="toast-body">
            <strong>{t.title}</strong>
            <span>{t.body}</span>
          </div>
          <button type="button" className="close" aria-label="Dismiss" onClick={() => dismiss(t.key)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
