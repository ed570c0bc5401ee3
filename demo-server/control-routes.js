// @ts-check
/**
 * The HTTP controls around the event stream: publishing, bursts, presence pings, /stats, fault
 * injection, login/revoke, and the demo's job and "ask" triggers.
 */
import express from 'express';
import { cookieFor } from './auth.js';
import { parseFault } from './faults.js';

/** @typedef {import('express').Request} Request */
/** @typedef {import('express').Response} Response */

/**
 * @typedef {object} ControlState
 * @property {(input: import('./event-log.js').PublishInput) => import('./event-log.js').StoredEvent} publish
 * @property {() => object} stats
 * @property {(options: { count: number, rate: number, type?: string, stream?: string }) => void} startBurst
 * @property {import('./presence.js').Presence} presence
 * @property {import('./faults.js').FaultQueue} faults
 * @property {import('./open-streams.js').OpenStreams} open
 * @property {import('./auth.js').Sessions} sessions
 * @property {import('./demo-emitters.js').DemoFeatures} demo
 */

/** @param {Request} req @returns {Record<string, unknown>} */
const body = (req) => (req.body && typeof req.body === 'object' ? req.body : {});

/** @param {unknown} value */
const optionalString = (value) => (typeof value === 'string' && value ? value : undefined);

/** @param {Response} res @param {string} error */
const badRequest = (res, error) => void res.status(400).json({ error });

/** @param {ControlState} state */
export function createControlRouter(state) {
  const router = express.Router();

  router.post('/publish', (req, res) => {
    const { type, data, user, stream } = body(req);
    const event = state.publish({
      type: optionalString(type),
      data,
      user: optionalString(user),
      stream: optionalString(stream),
    });
    res.json({ id: event.id });
  });

  router.post('/publish/burst', (req, res) => {
    const { count, rate, type, stream } = body(req);
    const n = Number(count);
    const r = Number(rate);
    if (!Number.isInteger(n) || n < 1 || n > 1_000_000) return badRequest(res, 'count must be 1..1000000');
    if (!(r > 0)) return badRequest(res, 'rate must be > 0 (events per second)');
    state.startBurst({ count: n, rate: r, type: optionalString(type), stream: optionalString(stream) });
    res.status(202).json({ started: true });
  });

  router.get('/stats', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(state.stats());
  });

  // sendBeacon() posts text/plain, so accept a JSON text body too.
  router.post('/presence', express.text({ type: 'text/plain' }), (req, res) => {
    /** @type {Record<string, unknown>} */
    let payload = body(req);
    if (typeof req.body === 'string') {
      try {
        payload = JSON.parse(req.body);
      } catch {
        return badRequest(res, 'body must be JSON');
      }
    }
    const tabId = optionalString(payload.tabId);
    if (!tabId) return badRequest(res, 'tabId is required');
    if (payload.leaving === true) state.presence.leave(tabId);
    else state.presence.touch(tabId);
    res.status(204).end();
  });

  router.post('/faults', (req, res) => {
    const raw = body(req);
    const parsed = parseFault(raw);
    if ('error' in parsed) return badRequest(res, parsed.error);
    const times = raw.times === undefined ? 1 : Number(raw.times);
    if (!Number.isInteger(times) || times < 1) return badRequest(res, 'times must be a positive integer');
    const queued = state.faults.add(parsed.fault, { stream: optionalString(raw.stream) ?? null, times });
    res.json({ queued });
  });

  router.delete('/faults', (_req, res) => {
    res.json({ cleared: state.faults.clear() });
  });

  router.post('/faults/drop-all', (req, res) => {
    res.json({ dropped: state.open.dropAll(optionalString(body(req).stream) ?? null) });
  });

  router.post('/faults/restart', (req, res) => {
    res.json({ ended: state.open.endAll(optionalString(body(req).stream) ?? null) });
  });

  router.post('/login', (req, res) => {
    const user = optionalString(body(req).user);
    if (!user) return badRequest(res, 'user is required');
    const token = state.sessions.login(user);
    res.set('Set-Cookie', cookieFor(token)).json({ token });
  });

  router.post('/revoke', (req, res) => {
    const token = optionalString(body(req).token);
    if (!token) return badRequest(res, 'token is required');
    res.json({ revoked: state.sessions.revoke(token) });
  });

  router.post('/jobs', (_req, res) => {
    res.json({ jobId: state.demo.startJob() });
  });

  router.post('/ask', (req, res) => {
    res.json({ answerId: state.demo.startAnswer(String(body(req).prompt ?? '')) });
  });

  return router;
}
