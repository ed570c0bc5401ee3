import { useEffect, useRef, useState } from 'react';
import type { DemoClient, DemoEvents } from '../client';
import { tabId } from '../tab-id';

/** A toast this tab shows, or a line saying which other tab of the browser showed one. */
type Toast = DemoEvents['notification'] & { key: number; shownBy?: string };

const TOAST_MS = 5000;
/** The demo's own channel: the tab that showed a notification tells the others of the browser. */
const CHANNEL = 'ssemux-demo-toasts';

/**
 * `notification` events, in the header, each for 5 s; the newest first. Each one is shown by one
 * tab of the browser only (`tabs: 'one'`: the hub picks a visible tab that had focus last); the
 * other tabs say which tab showed it.
 */
export function Toasts({ client }: { client: DemoClient }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());
  const nextKey = useRef(0);

  const dismiss = (key: number) => {
    clearTimeout(timers.current.get(key));
    timers.current.delete(key);
    setToasts((prev) => prev.filter((t) => t.key !== key));
  };

  useEffect(() => {
    const add = (toast: Omit<Toast, 'key'>) => {
      const key = ++nextKey.current;
      setToasts((prev) => [{ ...toast, key }, ...prev].slice(0, 2));
      timers.current.set(key, setTimeout(() => dismiss(key), TOAST_MS));
    };
    const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
    channel?.addEventListener('message', ({ data }: MessageEvent<DemoEvents['notification'] & { shownBy: string }>) => add(data));
    const off = client.on(
      'notification',
      ({ data }) => {
        add(data);
        channel?.postMessage({ ...data, shownBy: tabId });
      },
      { tabs: 'one' },
    );
    const pending = timers.current;
    return () => {
      off();
      channel?.close();
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    };
  }, [client]);

  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) =>
        t.shownBy ? (
          <div key={t.key} className="toast elsewhere" data-testid="toast-elsewhere" data-shown-by={t.shownBy} role="status">
            <div className="toast-body">
              <span>
                “{t.title}” shown in tab <code>{t.shownBy.slice(0, 8)}</code>
              </span>
            </div>
          </div>
        ) : (
          <div key={t.key} className={`toast level-${t.level}`} data-testid="toast" data-shown-by={tabId} role="status">
            <div className="toast-body">
              <strong>{t.title}</strong>
              <span>{t.body}</span>
            </div>
            <button type="button" className="close" aria-label="Dismiss" onClick={() => dismiss(t.key)}>
              ×
            </button>
          </div>
        ),
      )}
    </div>
  );
}
