// This tab's id: which tab showed a notification, as the other tabs of the browser say it.

/** A fresh id per page load: a tab opened with window.open() copies sessionStorage, not this. */
function newTabId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `tab-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export const tabId = newTabId();
