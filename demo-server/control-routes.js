// @ts-check
/**
 * The HTTP controls around the event stream: publishing, bursts, /stats, fault
 * injection, login/revoke, and the demo's job and "ask" triggers. Every one that changes state
 * is same-site only and reads JSON only (see same-site.js).
 */
import express from 'express';
import { PublishError } from 'ssemux/server';
import { cookieFor } from './auth.js';
import { MAX_BURST_COUNT, MAX_BURST_RATE } from './burst.js';
import { parseFault } from './faults.js';
import { requireKey, sameSite } from './same-site.js';

/** @typedef {import('express').Request} Request */
/** @typedef {import('express').Response} Response */

/**
 * @typedef {object} PublishInput
 * @property {string} [topic]   default: the default topic
 * @property {string} [stream]  legacy name of `topic`
 * @property {string} [type]
 * @property {unknown} [data]
 * @property {string} [user]
 */

/**
 * @typedef {object} ControlState
 * @property {(input: PublishInput) => Promise<string>} publish  resolves with the cursor
 * @property {() => Promise<object>} stats
 * @property {(options: { count: number, rate: number, type?: string, topic?: string }) => boolean} startBurst
 *   false while another burst runs
 * @property {import('./faults.js').FaultQueue} faults
 * @property {import('./open-streams.js').OpenStreams} open
 * @property {(topic: string | null) => Promise<number>} endStreams  end open streams cleanly (of `topic`)
 * @property {import('./auth.js').Sessions} sessions
 * @property {(token: string) => Promise<number>} endStreamsOf  end the streams opened with `token`
 * @property {import('./demo-emitters.js').DemoFeatures} demo
 * @property {string | undefined} publishKey
 */

/** @param {Request} req @returns {Record<string, unknown>} */
const body = (req) => (req.body && typeof req.body === 'object' ? req.body : {});

/** @param {unknown} value */
const optionalString = (value) => (typeof value === 'string' && value ? value : undefined);

/**
 * A user as `publish` takes it: a number (a database key) as its decimal text, as the server
 * reads one from `authenticate`; anything else as given, for `publish` to refuse (`null` or `''`
 * is a mistake, not "everyone").
 * @param {unknown} value
 */
const userOf = (value) => (typeof value === 'number' && Number.isFinite(value) ? String(value) : value);

/** @param {Response} res @param {string} error */
const badRequest = (res, error) => void res.status(400).json({ error });

/** @param {ControlState} state */
export function createControlRouter(state) {
  const router = express.Router();
  const json = sameSite({ body: 'json' });
  const publishKey = requireKey(state.publishKey);

  router.post('/publish', json, publishKey, async (req, res) => {
    const { type, data, user, topic, stream } = body(req);
    try {
      // Only a field left out takes the default: one given is published as it is (a bad one is a 400).
      const id = await state.publish({
        topic: /** @type {string | undefined} */ ('topic' in body(req) ? topic : stream),
        type: /** @type {string | undefined} */ (type),
        data,
        user: /** @type {string | undefined} */ (userOf(user)),
      });
      res.json({ id });
    } catch (error) {
      if (error instanceof TypeError) return badRequest(res, error.message);
      // The log did not take it in time (Redis away): try again.
      if (error instanceof PublishError) return void res.status(503).set('Retry-After', '1').json({ error: error.message });
      throw error;
    }
  });

  router.post('/publish/burst', json, publishKey, (req, res) => {
    const { count, rate, type, topic, stream } = body(req);
    const n = Number(count);
    const r = Number(rate);
    if (!Number.isInteger(n) || n < 1 || n > MAX_BURST_COUNT) return badRequest(res, `count must be 1..${MAX_BURST_COUNT}`);
    if (!(r > 0 && r <= MAX_BURST_RATE)) return badRequest(res, `rate must be in (0, ${MAX_BURST_RATE}] events per second`);
    const started = state.startBurst({ count: n, rate: r, type: optionalString(type), topic: optionalString(topic) ?? optionalString(stream) });
    if (!started) return void res.status(409).json({ error: 'a burst is already running' });
    res.status(202).json({ started: true });
  });

  router.get('/stats', async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(await state.stats());
  });

  router.post('/faults', json, (req, res) => {
    const raw = body(req);
    const parsed = parseFault(raw);
    if ('error' in parsed) return badRequest(res, parsed.error);
    const times = raw.times === undefined ? 1 : Number(raw.times);
    if (!Number.isInteger(times) || times < 1) return badRequest(res, 'times must be a positive integer');
    const queued = state.faults.add(parsed.fault, { stream: optionalString(raw.stream) ?? null, times });
    res.json({ queued });
  });

  router.delete('/faults', sameSite(), (_req, res) => {
    res.json({ cleared: state.faults.clear() });
  });

  router.post('/faults/drop-all', json, (req, res) => {
    res.json({ dropped: state.open.dropAll(optionalString(body(req).stream) ?? null) });
  });

  router.post('/faults/restart', json, async (req, res) => {
    res.json({ ended: await state.endStreams(optionalString(body(req).stream) ?? null) });
  });

  router.post('/login', json, (req, res) => {
    const user = optionalString(body(req).user);
    if (!user) return badRequest(res, 'user is required');
    const token = state.sessions.login(user);
    res.set('Set-Cookie', cookieFor(token)).json({ token });
  });

  router.post('/revoke', json, async (req, res) => {
    const token = optionalString(body(req).token);
    if (!token) return badRequest(res, 'token is required');
    const revoked = state.sessions.revoke(token);
    res.json({ revoked, ended: revoked ? await state.endStreamsOf(token) : 0 });
  });

  router.post('/jobs', sameSite(), (_req, res) => {
    res.json({ jobId: state.demo.startJob() });
  });

  router.post('/ask', json, (req, res) => {
    res.json({ answerId: state.demo.startAnswer(String(body(req).prompt ?? '')) });
  });

  return router;
}
