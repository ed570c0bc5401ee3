// The bare sharer of bench/bare-worker.js, reading its stream with fetch and a minimal SSE parser
// in script instead of the platform's EventSource: the floor of a sharer that needs what only
// fetch gives (request headers, the response's status, its own resume), as ssemux does. The same
// batching (a batch per task, posted to every port as [type, data, type, data, …]) and the same
// URL: /bare-fetch-worker.js?stream=<name>&type=<type>. No reconnection, no ids, no BOM, no CR:
// the demo server's bursts need none.
const query = new URLSearchParams(location.search);
const ports = [];
const types = new Set([query.get('type')]);
let open = false;
let batch = [];
let timer = 0;

function flush() {
  timer = 0;
  const events = batch;
  batch = [];
  for (const port of ports) port.postMessage(events);
}

async function read() {
  const response = await fetch(`/events?stream=${encodeURIComponent(query.get('stream'))}`, { headers: { accept: 'text/event-stream' } });
  open = true;
  for (const port of ports) port.postMessage('open');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  let type = '';
  let data = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const lines = (rest + value).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (line === '') {
        if (data && types.has(type || 'message')) batch.push(type || 'message', data.slice(0, -1));
        type = data = '';
      } else if (line.startsWith('data:')) data += (line[5] === ' ' ? line.slice(6) : line.slice(5)) + '\n';
      else if (line.startsWith('event:')) type = line[6] === ' ' ? line.slice(7) : line.slice(6);
    }
    if (batch.length && !timer) timer = setTimeout(flush, 0);
  }
}

void read();
self.onconnect = (event) => {
  const port = event.ports[0];
  ports.push(port);
  port.onmessage = ({ data }) => types.add(data.listen);
  if (open) port.postMessage('open');
};
