// @ts-check
/**
 * `GET /events`: authenticates, finds the resume point and the fault (if any), then hands over
 * to the SSE stream or the long-poll answer.
 */
import { answerWithFault, parseFault } from './faults.js';
import { serveLongPoll } from './long-poll.js';
import { serveSse } from './sse-stream.js';

/** @typedef {import('express').Request} Request */
/** @typedef {import('express').Response} Response */

/**
 * @typedef {object} Counters
 * @property {number} connections     /events requests accepted (past auth)
 * @property {number} eventsPublished
 * @property {number} eventsSent      events written to clients (replays included)
 */

/**
 * @typedef {object} EventsContext
 * @property {import('./event-log.js').EventLog} log
 * @property {import('./auth.js').Sessions | null} sessions  null when auth is off
 * @property {import('./faults.js').FaultQueue} faults
 * @property {import('./open-streams.js').OpenStreams} open
 * @property {Counters} counters
 * @property {{ heartbeatMs: number, retryMs: number, longPollMs: number }} timing
 */

/**
 * @typedef {object} EventsRequest
 * @property {string} stream
 * @property {import('./event-log.js').Viewer} viewer
 * @property {number | null} resumeId  null = live only (long-poll: from now)
 * @property {import('./faults.js').Fault | null} fault
 */

/**
 * First value of a query parameter, as a string.
 * @param {Request} req
 * @param {string} name
 */
export function queryParam(req, name) {
  const value = /** @type {Record<string, unknown>} */ (req.query)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/**
 * The `Last-Event-ID` header, else the `lastEventId` query parameter (a native EventSource
 * cannot set headers). Our ids are integers; anything else means "no resume point".
 * @param {Request} req
 */
export function resumePoint(req) {
  const header = req.get('last-event-id');
  const raw = (header ? header : queryParam(req, 'lastEventId') ?? '').trim();
  return /^\d+$/.test(raw) ? Number(raw) : null;
}

/** @param {EventsContext} ctx */
export function createEventsHandler(ctx) {
  /** @param {Request} req @param {Response} res */
  return (req, res) => {
    const stream = queryParam(req, 'stream') || 'main';

    let viewer = null;
    if (ctx.sessions) {
      viewer = ctx.sessions.userFor(req);
      if (viewer === null) {
        res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
        return;
      }
    }

    let fault = null;
    if (queryParam(req, 'fault')) {
      const parsed = parseFault(/** @type {Record<string, unknown>} */ (req.query));
      if ('error' in parsed) {
        res.status(400).json({ error: parsed.error });
        return;
      }
      fault = parsed.fault;
    } else {
      fault = ctx.faults.take(stream);
    }

    ctx.counters.connections++;
    if (fault && answerWithFault(res, fault)) return;

    /** @type {EventsRequest} */
    const request = { stream, viewer, resumeId: resumePoint(req), fault };
    if (queryParam(req, 'transport') === 'long-poll') serveLongPoll(ctx, res, request);
    else serveSse(ctx, res, request);
  };
}
