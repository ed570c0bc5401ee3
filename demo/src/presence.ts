// Presence: this tab tells the server it is open every few seconds (a tab counts for 10 s), and
// that it is leaving when the page goes away. The server's `stats` events report the count.

const PING_MS = 4000;

/** A fresh id per page load: a tab opened with window.open() copies sessionStorage, not this. */
function newTabId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `tab-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export const tabId = newTabId();

function ping(): void {
  void fetch('/presence', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tabId }),
    keepalive: true,
  }).catch(() => {});
}

/** Starts the pings; returns the function that stops them. */
export function startPresence(): () => void {
  let timer: ReturnType<typeof setInterval> | undefined;
  const start = () => {
    if (timer !== undefined) return;
    ping();
    timer = setInterval(ping, PING_MS);
  };
  const leave = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    // sendBeacon posts text/plain; the server accepts a JSON text body.
    navigator.sendBeacon('/presence', JSON.stringify({ tabId, leaving: true }));
  };
  // pageshow also fires when the page comes back from the back/forward cache.
  addEventListener('pageshow', start);
  addEventListener('pagehide', leave);
  start();
  return () => {
    removeEventListener('pageshow', start);
    removeEventListener('pagehide', leave);
    leave();
  };
}
