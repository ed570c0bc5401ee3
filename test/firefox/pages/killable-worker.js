// The ssemux worker (ssemux/worker), unchanged, plus a way for a test to end it while its tabs
// live on: Firefox's WebDriver BiDi lists worker realms but can neither evaluate in them nor close
// them (Chromium's suite uses CDP's Target.closeTarget). The end is made as termination makes it:
// the worker's requests are cancelled, then close() ends its global (ports dead, Web Locks
// released, which is how tabs learn that it is gone). Without the cancel, Firefox ESR 153
// sometimes keeps a worker closed mid-stream half alive: for 10 s and more, every new
// SharedWorker of its URL attaches to it and is never answered (2 runs of 15 here; 0 of 10 with
// the cancel). Termination has no such state to leave behind.
const requests = new AbortController();
const platformFetch = self.fetch.bind(self);
self.fetch = (input, init = {}) => {
  const signal = init.signal ? AbortSignal.any([init.signal, requests.signal]) : requests.signal;
  return platformFetch(input, { ...init, signal });
};
importScripts('/dist/ssemux-worker.js');
new BroadcastChannel('ssemux-test:kill-worker').onmessage = () => {
  requests.abort();
  close();
};
