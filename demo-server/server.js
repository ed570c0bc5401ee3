// @ts-check
/**
 * The ssemux reference server: named SSE streams with replay, long-poll, per-user events, fault
 * injection and the demo's emitters. `createDemoServer()` starts it and returns its handle.
 */
import http from 'node:http';
import express from 'express';
import { createSessions } from './auth.js';
import { startBurst } from './burst.js';
import { createControlRouter } from './control-routes.js';
import { createDemoFeatures } from './demo-emitters.js';
import { attachToLog, createEventLog } from './event-log.js';
import { createEventsHandler } from './events-route.js';
import { createFaultQueue } from './faults.js';
import { createOpenStreams } from './open-streams.js';
import { createPresence } from './presence.js';

export { createEventLog };
/** @typedef {import('./event-log.js').EventLog} EventLog */

/**
 * @typedef {object} DemoServerOptions
 * @property {number} [port]         0 = a random free port. Default 8080.
 * @property {string} [host]         Default '127.0.0.1'.
 * @property {boolean} [auth]        Require a token or session cookie on /events. Default false.
 * @property {number} [heartbeatMs]  Comment heartbeat interval. Default 15000.
 * @property {number} [retryMs]      Sent as `retry:`. Default 1000.
 * @property {number} [bufferSize]   Ring buffer length for replay. Default 5000. Ignored with `eventLog`.
 * @property {EventLog} [eventLog]   An existing log (from `createEventLog()`) to use instead of a new
 *   one: its ids and history survive this server, so a server started later with the same log
 *   resumes clients as if backed by durable storage. Closing the server leaves the log usable.
 * @property {number} [longPollMs]   How long a long-poll is held. Default 25000.
 * @property {{ prefix: string, dir: string }[]} [staticDirs] Served with express.static.
 * @property {boolean} [demo]        Start the tick/notification/stats feeds. Default false.
 */

/**
 * @typedef {object} DemoServerStats
 * @property {number} openStreams   open SSE responses + held long-polls, all streams
 * @property {number} openSse
 * @property {number} openLongPoll
 * @property {number} connections   /events requests accepted (past auth), ever
 * @property {number} eventsPublished
 * @property {number} eventsSent    events written to clients, replays included
 * @property {Record<string, { open: number }>} perStream
 * @property {number} tabs          distinct tabs that pinged /presence in the last 10 s
 * @property {number} latestId
 * @property {import('./burst.js').BurstStatus | null} burst  the latest burst
 */

/**
 * @typedef {object} DemoServer
 * @property {string} url
 * @property {number} port
 * @property {http.Server} server
 * @property {(input: import('./event-log.js').PublishInput) => import('./event-log.js').StoredEvent} publish
 * @property {() => DemoServerStats} stats
 * @property {() => Promise<void>} close
 */

const DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  auth: false,
  heartbeatMs: 15_000,
  retryMs: 1_000,
  bufferSize: 5_000,
  longPollMs: 25_000,
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
  const { eventLog, ...rest } = options;
  for (const [key, value] of Object.entries(rest)) {
    if (value !== undefined) Object.assign(config, { [key]: value });
  }

  // This server's view of the (possibly shared) log: closing it ends only this server's subscriptions.
  const { log, detach: detachFromLog } = attachToLog(eventLog ?? createEventLog(config.bufferSize));
  const open = createOpenStreams();
  const faults = createFaultQueue();
  const sessions = createSessions();
  const presence = createPresence();
  const counters = { connections: 0, eventsPublished: 0, eventsSent: 0 };
  /** @type {Set<ReturnType<typeof startBurst>>} */
  const bursts = new Set();
  /** @type {import('./burst.js').BurstStatus | null} */
  let lastBurst = null;

  /** @param {import('./event-log.js').PublishInput} input */
  const publish = (input) => {
    counters.eventsPublished++;
    return log.append(input);
  };

  /** @returns {DemoServerStats} */
  const stats = () => {
    /** @type {Record<string, { open: number }>} */
    const perStream = { main: { open: 0 } };
    for (const name of log.bufferedStreams()) perStream[name] = { open: 0 };
    for (const [name, n] of open.perStream()) perStream[name] = { open: n };
    return {
      openStreams: open.count(),
      openSse: open.count('sse'),
      openLongPoll: open.count('long-poll'),
      connections: counters.connections,
      eventsPublished: counters.eventsPublished,
      eventsSent: counters.eventsSent,
      perStream,
      tabs: presence.count(),
      latestId: log.latestId,
      burst: lastBurst && { ...lastBurst },
    };
  };

  const demo = createDemoFeatures(publish, stats);

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '1mb' }));
  const events = createEventsHandler({ log, sessions: config.auth ? sessions : null, faults, open, counters, timing: config });
  app.get('/events', events);
  app.post('/events', events); // clients configured with method: 'POST' (the body is ignored)
  app.use(
    createControlRouter({
      publish,
      stats,
      startBurst: (burstOptions) => {
        for (const old of bursts) if (old.status.done) bursts.delete(old);
        const burst = startBurst(publish, burstOptions);
        lastBurst = burst.status;
        bursts.add(burst);
      },
      presence,
      faults,
      open,
      sessions,
      demo,
    }),
  );
  for (const { prefix, dir } of config.staticDirs) app.use(prefix, express.static(dir));
  app.use(sendJsonError);

  const server = http.createServer(app);
  await new Promise((resolve, reject) => {
    /** @param {Error} error */
    const onError = (error) => {
      detachFromLog();
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

  let closing = /** @type {Promise<void> | null} */ (null);
  const close = () =>
    (closing ??= new Promise((resolve) => {
      demo.stop();
      for (const burst of bursts) burst.stop();
      detachFromLog(); // a passed-in log lives on for the next server, without our subscribers
      server.close(() => resolve());
      open.dropAll();
      server.closeAllConnections();
    }));

  return { url: `http://${host}:${port}`, port, server, publish, stats, close };
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
