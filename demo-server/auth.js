// @ts-check
/**
 * Token sessions for the demo: `POST /login` mints a random token per call (a user may hold
 * several), `POST /revoke` forgets one. A request is authenticated by
 * `Authorization: Bearer <token>` or the `session` cookie.
 */
import { randomBytes } from 'node:crypto';

/** @typedef {import('node:http').IncomingMessage} IncomingMessage */

export const SESSION_COOKIE = 'session';

/**
 * @param {string | undefined} header
 * @param {string} name
 */
function readCookie(header, name) {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

export class Sessions {
  /** @type {Map<string, string>} token → user */
  #users = new Map();

  /** @param {string} user */
  login(user) {
    const token = randomBytes(24).toString('base64url');
    this.#users.set(token, user);
    return token;
  }

  /** @param {string} token @returns {boolean} whether it existed */
  revoke(token) {
    return this.#users.delete(token);
  }

  /**
   * The user a request acts as, or null. A Bearer token wins over the cookie.
   * @param {IncomingMessage} req
   */
  userFor(req) {
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
    const token = bearer ?? readCookie(req.headers.cookie, SESSION_COOKIE);
    return token ? this.#users.get(token) ?? null : null;
  }

  /** @param {string} token */
  static cookieFor(token) {
    return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax`;
  }
}
