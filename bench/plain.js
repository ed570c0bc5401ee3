// The baseline page's code (plain.html): the browser's own EventSource, one per stream (or one
// per topic, each a plain stream of the demo server: `/events?stream=<topic>`), nothing else.
// A module of its own, as an app's bundle is, so that this page loads its code as the ssemux page
// does (one module script besides recorder.js) and the comparison charges ssemux only for what it
// adds: its bytes and its work.
{
  const { options, event, status, onListen } = window.benchRecorder;
  const urls = options.topics.length === 0
    ? [{ url: `/events?stream=${encodeURIComponent(options.stream)}` }]
    : options.topics.map((topic) => ({ url: `/events?stream=${encodeURIComponent(topic)}`, topic }));

  performance.mark('client-create');
  const sources = urls.map(({ url, topic }) => ({ topic, source: new EventSource(url) }));
  performance.mark('client-created');

  const update = () => {
    const states = sources.map(({ source }) => source.readyState);
    status(states.every((s) => s === EventSource.OPEN) ? 'open' : states.includes(EventSource.CLOSED) ? 'closed' : 'connecting', {
      sharing: 'none',
      transport: 'eventsource',
    });
  };
  for (const { source } of sources) {
    source.addEventListener('open', update);
    source.addEventListener('error', update);
  }

  let removers = [];
  const listen = (type) => {
    for (const remove of removers.splice(0)) remove();
    for (const { source, topic } of sources) {
      const handler = (e) => event(type, topic, JSON.parse(e.data));
      source.addEventListener(type, handler);
      removers.push(() => source.removeEventListener(type, handler));
    }
  };
  onListen(listen);
  listen(options.type);
}
