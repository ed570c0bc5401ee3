// The least a SharedWorker sharer can do (the hand-made kind, as Gitea's): one EventSource for
// every tab, no resume, no filter, no positions. Events are batched per task (setTimeout(0)) and
// each batch is posted to every port as one flat array [type, data, type, data, …]; each tab
// JSON.parses the data of its events. It is the floor of any design that shares a stream through
// a SharedWorker in this browser: the bench measures a new tab joining it, the first tab starting
// it, and its fan-out.
//
// Its URL names the stream and the first type: /bare-worker.js?stream=<name>&type=<type>. A tab
// asks for more types with { listen: type } (the fan-out gives each burst a type of its own).
const query = new URLSearchParams(location.search);
const ports = [];
const source = new EventSource(`/events?stream=${encodeURIComponent(query.get('stream'))}`);
const types = new Set();
let batch = [];
let timer = 0;

function flush() {
  timer = 0;
  const events = batch;
  batch = [];
  for (const port of ports) port.postMessage(events);
}

function onEvent(e) {
  batch.push(e.type, e.data);
  if (!timer) timer = setTimeout(flush, 0);
}

function listen(type) {
  if (types.has(type)) return;
  types.add(type);
  source.addEventListener(type, onEvent);
}

listen(query.get('type'));
source.onopen = () => {
  for (const port of ports) port.postMessage('open');
};
self.onconnect = (event) => {
  const port = event.ports[0];
  ports.push(port);
  port.onmessage = ({ data }) => listen(data.listen);
  if (source.readyState === EventSource.OPEN) port.postMessage('open');
};
