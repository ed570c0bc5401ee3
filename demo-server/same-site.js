// @ts-check
/**
 * Guards for the control endpoints (publish, bursts, faults, login, revoke, jobs, ask): they
 * change state, so another site must not be able to call them from a visitor's browser. A cross-site request is refused (`Sec-Fetch-Site: cross-site`, or an `Origin` that
 * is not this server's), and a body is read only as JSON: a cross-site form or `no-cors` fetch
 * cannot send `application/json` without a CORS preflight, which this server never grants.
 */
import { timingSafeEqual } from 'node:crypto';

/** @typedef {import('express').Request} Request */
/** @typedef {import('express').Response} Response */
/** @typedef {import('express').NextFunction} NextFunction */

/** @param {Request} req */
const ownOrigin = (req) => `${req.protocol}://${req.get('host')}`;

/** @param {Request} req the media type of the body, without parameters */
const mediaType = (req) => (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();

/**
 * Refuses cross-site requests with 403. With `body`, also a body that is not JSON, with 415.
 * @param {{ body?: 'json' }} [options]
 */
export function sameSite({ body } = {}) {
  /** @param {Request} req @param {Response} res @param {NextFunction} next */
  return (req, res, next) => {
    const origin = req.get('origin');
    if (req.get('sec-fetch-site') === 'cross-site' || (origin !== undefined && origin !== ownOrigin(req))) {
      return void res.status(403).json({ error: 'cross-site requests are not allowed' });
    }
    const type = mediaType(req);
    if (!body || type === 'application/json') return next();
    res.status(415).json({ error: 'the body must be application/json' });
  };
}

/**
 * With a key: requests must carry `Authorization: Bearer <key>` (401 otherwise).
 * @param {string | undefined} key
 */
export function requireKey(key) {
  const expected = key ? Buffer.from(key) : null;
  /** @param {Request} req @param {Response} res @param {NextFunction} next */
  return (req, res, next) => {
    if (!expected) return next();
    // The scheme is case-insensitive (RFC 9110 §11.1): `bearer <key>` is as good.
    const [scheme, ...rest] = (req.get('authorization') ?? '').split(' ');
    const given = Buffer.from(/^bearer$/i.test(scheme ?? '') ? rest.join(' ') : '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'publishing needs the publish key' });
  };
}
