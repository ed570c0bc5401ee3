// @ts-check
/**
 * `GET|POST /events`: ssemux/server's handler, with the demo's additions around it: the legacy
 * `stream=<name>` parameter (one topic, as a plain connection), injected faults, and tracking of
 * open responses for the fault controls.
 */
import { answerWithFault, applyStreamFault, parseFault } from './faults.js';

/** @typedef {import('express').Request} Request */
/** @typedef {import('express').Response} Response */

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
 * Topics of a plain connection: the legacy `stream=<name>`, else the default topic.
 * @param {import('node:http').IncomingMessage} req
 * @param {string} defaultTopic
 */
export function plainTopics(req, defaultTopic) {
  const stream = new URL(req.url ?? '/', 'http://localhost').searchParams.get('stream');
  return [stream || defaultTopic];
}

/**
 * The topics a request asks for, as far as the demo needs them to scope faults: `topic=` in the
 * query, `topics` in a JSON body, else the plain connection's.
 * @param {Request} req
 * @param {string} defaultTopic
 * @returns {string[]}
 */
function requestedTopics(req, defaultTopic) {
  const named = new URL(req.url, 'http://localhost').searchParams.getAll('topic');
  const body = /** @type {{ topics?: unknown } | undefined} */ (req.body);
  if (Array.isArray(body?.topics)) named.push(...body.topics.filter((topic) => typeof topic === 'string'));
  return named.length > 0 ? named : plainTopics(req, defaultTopic);
}

/**
 * @typedef {object} EventsOptions
 * @property {import('ssemux/server').RealtimeServer<any>} realtime
 * @property {import('./faults.js').FaultQueue} faults
 * @property {import('./open-streams.js').OpenStreams} open
 * @property {(req: Request) => boolean} authenticated  false: the library will answer 401
 * @property {string} defaultTopic
 * @property {() => void} counted  called for every request, whatever answers it
 */

/** @param {EventsOptions} options */
export function createEventsHandler({ realtime, faults, open, authenticated, defaultTopic, counted }) {
  /** @param {Request} req @param {Response} res */
  return (req, res) => {
    counted();
    // The demo serves pages of other origins too (a sandboxed frame has an opaque one).
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'ssemux');
    const topics = requestedTopics(req, defaultTopic);
    let fault = null;
    if (queryParam(req, 'fault')) {
      const parsed = parseFault(/** @type {Record<string, unknown>} */ (req.query));
      if ('error' in parsed) return void res.status(400).json({ error: parsed.error });
      fault = parsed.fault;
    } else if (authenticated(req)) {
      // A request that will get 401 must not use up a queued fault.
      fault = faults.take(topics);
    }
    if (fault && answerWithFault(res, fault)) return;
    if (fault) applyStreamFault(res, fault);
    open.track(res, topics);
    return realtime.handler(req, res);
  };
}
