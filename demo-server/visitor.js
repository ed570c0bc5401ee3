// @ts-check
/**
 * Visitor names, for a demo without logins: the page picks a name for its browser and sets it in
 * the `demo_name` cookie, and the server counts the browser under that name in presence (and
 * sends it the events published for that user). Anyone may claim any name: it says who is
 * looking, not who may see what. With `auth` on, the session's user is used instead.
 */
import { readCookie } from './auth.js';

export const VISITOR_COOKIE = 'demo_name';
/** Longest name taken; a longer or odd one counts as anonymous. */
const MAX_NAME = 40;

/**
 * The visitor name of a request, or null (anonymous).
 * @param {import('node:http').IncomingMessage} req
 */
export function visitorName(req) {
  let name;
  try {
    name = readCookie(req.headers.cookie, VISITOR_COOKIE);
  } catch {
    return null;
  }
  // Printable and well-formed (no lone surrogate), as ssemux/server wants user names.
  if (!name || name.length > MAX_NAME || !/^(?:[^\u0000-\u001f\u007f\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])+$/.test(name)) return null;
  return name;
}
