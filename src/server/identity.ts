/**
 * Who a connection belongs to, as `authenticate` returns it: a user name, or an object carrying
 * one (and whatever else the application needs later, e.g. in `authorize` or `disconnect`).
 * An object without `user` is anonymous: it sees only events published without `user`.
 */
export type Identity = string | { readonly user?: string | undefined };

/** The identity of every request when no `authenticate` option is given. */
export const ANONYMOUS: Identity = Object.freeze({});

/** The user an identity names, or undefined for an anonymous one. */
export function userOf(identity: Identity): string | undefined {
  const user = typeof identity === 'string' ? identity : identity.user;
  return user ? user : undefined;
}
