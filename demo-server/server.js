// @ts-check
/**
 * The ssemux demo server: ssemux/server's realtime endpoint inside an Express app, as an app
 * would use it, plus what the demo page and the tests need around it: publishing over HTTP,
 * per-user events, fault injection and the demo's emitters. `createDemoServer()` starts it and
 * returns its handle.
 */
import http from 'node:http';
import express from 'express';
import { ANONYMOUS, createRealtimeServer, memoryStore } from 'ssemux/server';
import { createSessions, hasMalformedCookie } from './auth.js';
import { startBurst } from './burst.js';
import { createControlRouter } from './control-routes.js';
import { createDemoFeatures } from './demo-emitters.js';
import { createEventsHandler, plainTopics } from './events-route.js';
import { createFaultQueue } from './faults.js';
import { createOpenStreams } from './open-streams.js';
import { visitorName } from './visitor.js';

/** @typedef {import('ssemux/server').EventStore} EventStore */

/**
 * @typedef {object} DemoServerOptions
 * @property {number} [port]         0 = a random free port. Default 8080.
 * @property {string} [host]         Default '127.0.0.1'.
 * @property {boolean} [auth]        Require a token or session cookie on /events. Default false:
 *   a request is its visitor name (the `demo_name` cookie the page sets, see visitor.js), or
 *   anonymous without one; events published for a user reach that visitor name.
 * @property {number} [heartbeatMs]  Comment heartbeat interval. Default 15000.
 * @property {number} [retryMs]      Sent as `retry:`. Default 1000.
 * @property {number} [bufferSize]   Events the default memory store keeps. Default 5000. Ignored with `store`.
 * @property {EventStore} [store]    The log (`memoryStore()`, `redisStore()` from ssemux/server). One
 *   passed in outlives this server: a server started later on it resumes clients as if backed by
 *   durable storage, and `close()` leaves it open. Default: a memory store of `bufferSize`.
 * @property {number} [longPollMs]   How long a long-poll is held. Default 25000.
 * @property {string} [publishKey]   When set, `POST /publish` and `/publish/burst` need
 *   `Authorization: Bearer <publishKey>`. Default: none.
 * @property {{ prefix: string, dir: string }[]} [staticDirs] Served with express.static.
 * @property {boolean} [demo]        Start the tick/notification/stats feeds. Default false.
 */

/**
 * @typedef {object} DemoServerStats
 * @property {number} openStreams   open SSE responses + held long-polls, all topics
 * @property {number} openSse
 * @property {number} openLongPoll
 * @property {number} connections   /events requests answered 200, ever
 * @property {number} requests      /events requests, ever, whatever answered them (faults included)
 * @property {number} eventsPublished  through this server
 * @property {number} eventsSent    events written to clients, replays included
 * @property {Record<string, { open: number }>} perStream  open responses per topic (the default topic always listed)
 * @property {string} latestId      cursor of the newest event of the log
 * @property {import('./burst.js').BurstStatus | null} burst  the latest burst
 */

/**
 * @typedef {object} DemoServer
 * @property {string} url
 * @property {number} port
 * @property {http.Server} server
 * @property {EventStore} store
 * @property {(input: import('./control-routes.js').PublishInput) => Promise<string>} publish  resolves with the cursor
 * @property {() => Promise<DemoServerStats>} stats
 * @property {() => Promise<void>} close
 */

const DEFAULT_TOPIC = 'main';

const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  auth: false,
  heartbeatMs: 15_000,
  retryMs: 1_000,
  bufferSize: 5_000,
  longPollMs: 25_000,
  /** @type {string | undefined} */
  publishKey: undefined,
  /** @type {{ prefix: string, dir: string }[]} */
  staticDirs: [],
  demo: false,
};

/**
 * @param {DemoServerOptions} [options]
 * @returns {Promise<DemoServer>}
 */
export async function createDemoServer(options = {}) {
  /** @type {typeof DEFAULTS} */
  const config = { ...DEFAULTS };
  const { store: givenStore, ...rest } = options;
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) Object.assign(config, { [key]: value });
  }
  const store = givenStore ?? memoryStore({ maxEvents: config.bufferSize });
  const sessions = createSessions();
  /** @param {import('node:http').IncomingMessage} req */
  const identify = (req) => (config.auth ? sessions.identify(req) : null);

  const realtime = createRealtimeServer({
    store,
    heartbeatMs: config.heartbeatMs,
    retryMs: config.retryMs,
    longPollMs: config.longPollMs,
    defaultTopic: DEFAULT_TOPIC,
    // `?stream=<name>`: the reference server's old way of naming one stream.
    defaultTopics: (req) => plainTopics(req, DEFAULT_TOPIC),
    // Without logins, a browser is its visitor name (or anonymous): presence has names to show.
    authenticate: config.auth ? identify : (req) => visitorName(req) ?? ANONYMOUS,
    // Who reads the demo's topics, for the page's presence panel (on by default; said here as the
    // demo relies on it).
    presence: true,
  });
  const open = createOpenStreams();
  const faults = createFaultQueue();
  let eventsPublished = 0;
  let requests = 0;
  /** @type {ReturnType<typeof startBurst> | null} */
  let burst = null;

  /** @param {import('./control-routes.js').PublishInput} input */
  const publish = async ({ topic, stream, type, data, user }) => {
    const cursor = await realtime.publish({ topic: topic === undefined ? stream : topic, type, data, user });
    eventsPublished++;
    return cursor;
  };

  /** @returns {Promise<DemoServerStats>} */
  const stats = async () => {
    const now = realtime.stats();
    // Own properties, whatever the topic's name (perStream['__proto__'] = … would set the prototype).
    /** @type {Record<string, { open: number }>} */
    const perStream = Object.fromEntries([[DEFAULT_TOPIC, { open: 0 }], ...Object.entries(now.perTopic).map(([topic, n]) => [topic, { open: n }])]);
    return {
      openStreams: now.openStreams,
      openSse: now.openSse,
      openLongPoll: now.openLongPoll,
      connections: now.connections,
      requests,
      eventsPublished,
      eventsSent: now.eventsSent,
      perStream,
      latestId: await store.head(),
      burst: burst && { ...burst.status },
    };
  };

  const demo = createDemoFeatures((event) => publish(event), stats, (error) => console.error('demo feed:', error));

  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    if (hasMalformedCookie(req)) return void res.status(400).json({ error: 'malformed session cookie' });
    next();
  });
  app.use(express.json({ limit: '1mb' }));
  const events = createEventsHandler({ realtime, faults, open, authenticated: (req) => !config.auth || identify(req) !== null, defaultTopic: DEFAULT_TOPIC, counted: () => void requests++ });
  app.get('/events', events);
  app.post('/events', events);
  app.use(
    createControlRouter({
      publish,
      stats,
      startBurst: (burstOptions) => {
        if (burst && !burst.status.done) return false;
        burst = startBurst(publish, burstOptions);
        return true;
      },
      faults,
      open,
      endStreams: (topic) => realtime.disconnect(topic === null ? () => true : { topic }),
      sessions,
      endStreamsOf: (token) => realtime.disconnect((identity) => /** @type {{ token?: string }} */ (identity).token === token),
      demo,
      publishKey: config.publishKey,
    }),
  );
  // Public files, loadable by any origin (a sandboxed frame's is opaque, and module scripts need CORS).
  const publicFiles = { setHeaders: (/** @type {import('node:http').ServerResponse} */ res) => res.setHeader('Access-Control-Allow-Origin', '*') };
  for (const { prefix, dir } of config.staticDirs) app.use(prefix, express.static(dir, publicFiles));
  app.use(sendJsonError);

  const server = http.createServer(app);
  await new Promise((resolve, reject) => {
    /** @param {Error} error */
    const onError = (error) => {
      void realtime.close();
      reject(error);
    };
    server.once('error', onError);
    server.listen(config.port, config.host, () => {
      server.off('error', onError);
      resolve(undefined);
    });
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const port = address.port;
  const host = ['0.0.0.0', '::'].includes(config.host) ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;

  if (config.demo) demo.startFeeds();

  /** @type {Promise<void> | null} */
  let closing = null;
  const close = () =>
    (closing ??= (async () => {
      demo.stop();
      burst?.stop();
      const closed = new Promise((resolve) => server.close(resolve));
      await realtime.close(); // ends every stream cleanly; the store lives on when it was passed in
      open.dropAll();
      server.closeAllConnections();
      await closed;
      if (!givenStore) await store.close();
    })());

  return { url: `http://${host}:${port}`, port, server, store, publish, stats, close };
}

/**
 * Errors (a malformed JSON body, ...) as JSON rather than express's HTML page.
 * @param {any} err
 * @param {import('express').Request} _req
 * @param {import('express').Response} res
 * @param {import('express').NextFunction} _next
 */
function sendJsonError(err, _req, res, _next) {
  const status = Number(err?.status ?? err?.statusCode) || 500;
  if (!res.headersSent) res.status(status).json({ error: status < 500 ? String(err.message) : 'internal error' });
  if (status >= 500) console.error(err);
}
