// The least a SharedWorker sharer can do (the hand-made kind, as Gitea's): one EventSource for
// every tab, each event posted to every port as it comes, no resume, no filter, no batching.
// Its URL names the stream and the type: /bare-worker.js?stream=<name>&type=<type>. The bench
// measures a new tab joining it, as the floor of any design that shares a stream through a
// SharedWorker in this browser.
const query = new URLSearchParams(location.search);
const ports = [];
const source = new EventSource(`/events?stream=${encodeURIComponent(query.get('stream'))}`);
source.addEventListener(query.get('type'), (e) => {
  for (const port of ports) port.postMessage(e.data);
});
source.onopen = () => {
  for (const port of ports) port.postMessage('open');
};
self.onconnect = (event) => {
  const port = event.ports[0];
  ports.push(port);
  if (source.readyState === EventSource.OPEN) port.postMessage('open');
};
