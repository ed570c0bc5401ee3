// A tab of the bare sharer (bare.html, bare-worker.js): joins the worker and hands each event it
// posts to the recorder. A module of its own, as plain.js.
const { options, event, status } = window.benchRecorder;
performance.mark('client-create');
const worker = new SharedWorker(`/bare-worker.js?stream=${encodeURIComponent(options.stream)}&type=${encodeURIComponent(options.type)}`);
performance.mark('client-created');
worker.port.onmessage = ({ data }) => {
  if (data === 'open') status('open', { sharing: 'shared-worker', transport: 'eventsource' });
  else event(options.type, undefined, JSON.parse(data));
};
