// @ts-check
/**
 * Token sessions for the demo: `POST /login` mints a JWT-shaped token per call (a user may hold
 * several), `POST /revoke` forgets one. A request is authenticated by
 * `Authorization: Bearer <token>` or the `session` cookie.
 *
 * A token is `base64url(header) . base64url(payload) . base64url(HMAC-SHA256(header.payload))`
 * with header `{"alg":"HS256","typ":"JWT"}`, payload `{ iss, sub, iat, jti }` and a random
 * per-server secret. The client library names credentials by the JWT's `iss` + `sub`, so two
 * tokens of one user (two tabs, or a refresh) share one upstream. A token is valid while its
 * signature checks out and it was issued here and not revoked.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** @typedef {import('node:http').IncomingMessage} IncomingMessage */

export const SESSION_COOKIE = 'session';
export const TOKEN_ISSUER = 'ssemux-demo';

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * @typedef {object} TokenPayload
 * @property {string} iss  always {@link TOKEN_ISSUER}
 * @property {string} sub  the user
 * @property {number} iat  issued at, seconds since epoch
 * @property {string} jti  random, so every login gives a different token
 */

/**
 * @typedef {object} Sessions
 * @property {(user: string) => string} login  Mint a new token for `user`.
 * @property {(token: string) => boolean} revoke  Forget a token; whether it was issued and not yet revoked.
 * @property {(req: IncomingMessage) => { user: string, token: string } | null} identify
 *   Who a request acts as, with the token it used, or null. A Bearer token wins over the cookie;
 *   a malformed cookie counts as none (answer it with {@link hasMalformedCookie} first).
 */

/** The `session` cookie is not valid percent-encoding: a client error, not a server one. */
export class MalformedCookieError extends Error {}

/**
 * The value of cookie `name` in a `Cookie` header, percent-decoded, or null.
 * @param {string | undefined} header
 * @param {string} name
 */
export function readCookie(header, name) {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new MalformedCookieError(`malformed ${name} cookie`);
    }
  }
  return null;
}

/**
 * True when the request's session cookie cannot be decoded (e.g. `session=%E0%A4%A`).
 * @param {IncomingMessage} req
 */
export function hasMalformedCookie(req) {
  try {
    readCookie(req.headers.cookie, SESSION_COOKIE);
    return false;
  } catch (error) {
    if (error instanceof MalformedCookieError) return true;
    throw error;
  }
}

/** @param {string} token */
export function cookieFor(token) {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax`;
}

/** @returns {Sessions} */
export function createSessions() {
  const secret = randomBytes(32);
  /** @type {Set<string>} tokens issued and not revoked */
  const issued = new Set();

  /** @param {string} signingInput `header.payload` */
  const sign = (signingInput) => createHmac('sha256', secret).update(signingInput).digest();

  /**
   * The user of a well-formed, correctly signed, issued and unrevoked token, or null.
   * @param {string} token
   */
  const verify = (token) => {
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) return null;
    const [header, payload, signature] = /** @type {[string, string, string]} */ (parts);
    const expected = sign(`${header}.${payload}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
    if (!issued.has(token)) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      return claims?.iss === TOKEN_ISSUER && typeof claims.sub === 'string' ? claims.sub : null;
    } catch {
      return null;
    }
  };

  return {
    login(user) {
      /** @type {TokenPayload} */
      const claims = {
        iss: TOKEN_ISSUER,
        sub: user,
        iat: Math.floor(Date.now() / 1000),
        jti: randomBytes(16).toString('base64url'),
      };
      const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      const token = `${signingInput}.${sign(signingInput).toString('base64url')}`;
      issued.add(token);
      return token;
    },

    revoke(token) {
      return issued.delete(token);
    },

    identify(req) {
      const auth = req.headers.authorization ?? '';
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
      let token = bearer ?? null;
      if (!token) {
        try {
          token = readCookie(req.headers.cookie, SESSION_COOKIE);
        } catch {
          return null;
        }
      }
      const user = token ? verify(token) : null;
      return user && token ? { user, token } : null;
    },
  };
}
