// What every bench page records, as a classic script (no module download of its own, so the
// plain-EventSource page stays a one-file page like the ssemux page apart from ssemux itself).
//
// The page's query string says what to open (read by ssemux.html / plain.html):
//   stream=<name>        one stream: `/events?stream=<name>` (the demo server's plain connection)
//   topics=a,b,c         topics instead of a stream
//   perTopic=1           one stream per topic (`/events?stream=<topic>`) instead of one topic stream
//   type=<event type>    the type listened to first (default 'bench'); bench.listen() switches
//   sharing=<mode>       ssemux's `sharing` (default 'shared-worker')
//   maxConnections=<n>   ssemux's `maxConnections`
//
// Per event (data `{ seq, t }`, t = the server's Date.now() when it published): the delay to
// this handler, into a 1 ms histogram (cheap to keep, cheap to hand to the driver: 80,000
// events × 20 tabs as arrays would be megabytes per poll); and the order check: within each
// topic (or the one stream), seq must be the previous one + 1, else it counts as out of order
// (a gap, a repeat or a reorder all count).
(() => {
  const HIST_MAX_MS = 120_000;
  const query = new URLSearchParams(location.search);
  const list = (name) => (query.get(name) ? query.get(name).split(',').filter(Boolean) : []);
  const options = {
    stream: query.get('stream') || 'bench',
    topics: list('topics'),
    perTopic: query.get('perTopic') === '1',
    type: query.get('type') || 'bench',
    sharing: query.get('sharing') || 'shared-worker',
    maxConnections: query.get('maxConnections') ? Number(query.get('maxConnections')) : undefined,
  };

  const record = {
    type: options.type,
    until: Infinity, // events after this time (ms since epoch) are received but not counted
    received: 0, // events of `type`, counted or not
    delivered: 0,
    outOfOrder: 0,
    next: {}, // topic (or '') → the seq expected next
    hist: new Uint32Array(HIST_MAX_MS + 1),
    state: 'connecting',
    sharing: null,
    transport: null,
    error: null,
  };
  let firstEventMarked = false;
  let openMarked = false;

  // Messages the page's SharedWorker ports and BroadcastChannels receive (ssemux's and the bare
  // sharer's deliveries; in leader mode, a follower's): each costs both ends a fixed price
  // however many events it carries, so their number explains much of the CPU. One counting
  // listener per port or channel, added as the page makes it.
  record.messages = 0;
  const count = () => record.messages++;
  if (typeof SharedWorker === 'function') {
    window.SharedWorker = class extends SharedWorker {
      constructor(...args) {
        super(...args);
        this.port.addEventListener('message', count);
      }
    };
  }
  if (typeof BroadcastChannel === 'function') {
    window.BroadcastChannel = class extends BroadcastChannel {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', count);
      }
    };
  }

  /** Where each source's listener lands: `type` is checked so that a late event of a previous burst is not counted. */
  function event(type, topic, data) {
    if (type !== record.type) return;
    record.received++;
    // After the driver's deadline: the counts stay as they were at the deadline, however late
    // the driver gets to read them (a tab busy with a backlog answers late).
    if (Date.now() > record.until) return;
    if (!firstEventMarked) {
      firstEventMarked = true;
      performance.mark('first-event');
    }
    const latency = Date.now() - data.t;
    record.hist[Math.max(0, Math.min(HIST_MAX_MS, latency))]++;
    const key = topic ?? '';
    if (key in record.next && data.seq !== record.next[key]) record.outOfOrder++;
    record.next[key] = data.seq + 1;
    record.delivered++;
  }

  /** Connection state, from ssemux's status or EventSource's open/error. */
  function status(state, extra = {}) {
    record.state = state;
    Object.assign(record, extra);
    if (state === 'open' && !openMarked) {
      openMarked = true;
      performance.mark('open');
    }
  }

  const listeners = []; // (type) => void, one per source, registered by the page
  window.benchRecorder = {
    options,
    record,
    event,
    status,
    onListen: (fn) => listeners.push(fn),
  };

  // What the driver (scripts/bench.mjs) calls.
  window.bench = {
    /** Start counting events of `type` from zero (each burst has a type of its own), until `until`. */
    listen(type, until = Infinity) {
      record.type = type;
      record.until = until ?? Infinity;
      record.received = 0;
      record.delivered = 0;
      record.outOfOrder = 0;
      record.messages = 0;
      record.next = {};
      record.hist.fill(0);
      for (const fn of listeners) fn(type);
    },
    /** The counts and the histogram as [ms, count] pairs. */
    snapshot() {
      const hist = [];
      for (let ms = 0; ms <= HIST_MAX_MS; ms++) if (record.hist[ms]) hist.push([ms, record.hist[ms]]);
      return { delivered: record.delivered, outOfOrder: record.outOfOrder, messages: record.messages, state: record.state, sharing: record.sharing, transport: record.transport, error: record.error, hist };
    },
    progress: () => ({ delivered: record.delivered, received: record.received, state: record.state }),
    /** performance marks and the load timing that the new-tab breakdown needs, in ms since navigation start. */
    timings() {
      const mark = (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime ?? null;
      const nav = performance.getEntriesByType('navigation')[0];
      const scripts = performance.getEntriesByType('resource').filter((e) => e.name.includes('/dist/'));
      return {
        htmlLoaded: nav ? nav.responseEnd : null,
        scriptsLoaded: scripts.length ? Math.max(...scripts.map((e) => e.responseEnd)) : null,
        moduleLoaded: mark('module-loaded'),
        clientCreate: mark('client-create'),
        clientCreated: mark('client-created'),
        open: mark('open'),
        firstEvent: mark('first-event'),
      };
    },
  };
})();
