// The ssemux worker (ssemux/worker), unchanged, plus a way for a test to end it while its tabs
// live on: Firefox's WebDriver BiDi lists worker realms but can neither evaluate in them nor close
// them (Chromium's suite uses CDP's Target.closeTarget). The end is made as termination makes it:
// the worker's requests are cancelled (and new ones refused), then close() ends its global (ports
// dead, Web Locks released, which is how tabs learn that it is gone). Without the cancel, Firefox
// ESR 153 sometimes never finishes closing a worker that has a request open: every new
// SharedWorker of its URL attaches to the half-closed worker and is never answered (seen for
// 40 s and more; test/firefox/README.md). Termination leaves no such state.
const requests = new AbortController();
const platformFetch = self.fetch.bind(self);
self.fetch = (input, init = {}) => {
  if (requests.signal.aborted) return Promise.reject(new TypeError('the worker is ending'));
  const signal = init.signal ? AbortSignal.any([init.signal, requests.signal]) : requests.signal;
  return platformFetch(input, { ...init, signal });
};
importScripts('/dist/ssemux-worker.js');
new BroadcastChannel('ssemux-test:kill-worker').onmessage = () => {
  requests.abort();
  // The cancel reaches the network first: a close() in the same task can still find it open.
  setTimeout(() => close(), 100);
};
