import { isUserName } from './names.js';

/**
 * Who a connection belongs to, as `authenticate` returns it: a user name (a number, such as a
 * database key, stands for its decimal text), or an object carrying one (and whatever else the
 * application needs later, e.g. in `authorize` or `disconnect`). An object without `user` is
 * anonymous: it sees only events published without `user`.
 */
export type Identity = string | number | { readonly user?: string | number | undefined };

/** The identity of every request when no `authenticate` option is given. */
export const ANONYMOUS: Identity = Object.freeze({});

/**
 * The user an identity names, or undefined for an anonymous one. A number is its decimal text,
 * as `publish({ user })` must name it. Throws a TypeError for anything else (an object, a name
 * with a lone surrogate): such a connection would match no event meant for its user, silently.
 */
export function userOf(identity: Identity): string | undefined {
  const user = typeof identity === 'object' ? identity.user : identity;
  if (user === undefined || user === '') return undefined;
  if (typeof user === 'number' && Number.isFinite(user)) return String(user);
  if (isUserName(user)) return user;
  throw new TypeError(`authenticate: the user must be a well-formed string or a number, got ${typeof user === 'string' ? JSON.stringify(user) : typeof user}`);
}
