// A tab of the bare sharer (bare.html, bare-worker.js): joins the worker, hands each event of
// each batch it posts to the recorder (JSON.parse of its data, as an app would), and asks the
// worker for the types the driver listens to. A module of its own, as plain.js.
const { options, event, status, onListen } = window.benchRecorder;
performance.mark('client-create');
const script = new URLSearchParams(location.search).get('worker') === 'fetch' ? 'bare-fetch-worker.js' : 'bare-worker.js';
const worker = new SharedWorker(`/${script}?stream=${encodeURIComponent(options.stream)}&type=${encodeURIComponent(options.type)}`);
performance.mark('client-created');
worker.port.onmessage = ({ data }) => {
  if (data === 'open') return status('open', { sharing: 'shared-worker', transport: 'eventsource' });
  for (let i = 0; i < data.length; i += 2) event(data[i], undefined, JSON.parse(data[i + 1]));
};
onListen((type) => worker.port.postMessage({ listen: type }));
