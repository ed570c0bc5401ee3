import type { HeadersInit } from '../protocol/types.js';

/** Claims that change when a token is refreshed, not who or what it stands for. */
const VOLATILE_CLAIMS = new Set(['iat', 'exp', 'nbf', 'jti']);

/**
 * Names the credentials in `headers` without keeping them: tabs whose keys match share one
 * upstream, others never do. The key covers every header. A bearer JWT in `Authorization` whose
 * identity is evident (signed, with a `sub`) counts by its header (`alg`, `kid`, `typ`…) and its
 * claims without `iat`, `exp`, `nbf` and `jti`, so a refreshed token of the same identity keeps the
 * key while another user, tenant, scope or signing key changes it. Any other token counts as a
 * whole: a JWT without `sub` (a session-id token, told apart by its `jti` alone), an unsigned one
 * (`alg: none`, which anyone can write), an opaque token. `''` when there are no headers. Apps
 * whose tokens change on every call without naming a `sub` pass `credentialsKey`.
 */
export function credentialsKeyOf(headers: HeadersInit): string {
  const entries = Object.entries(headers)
    .map(([name, value]) => {
      const lower = name.toLowerCase();
      const identity = lower === 'authorization' ? jwtIdentity(value) : undefined;
      return [lower, identity ? `jwt ${identity}` : value] as const;
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '' : hash(JSON.stringify(entries));
}

/**
 * The identity a bearer JWT evidently stands for, as stable text: its header and its claims but
 * the volatile ones. Undefined when it is not evident, so that the token counts as a whole.
 */
function jwtIdentity(authorization: string): string | undefined {
  const match = /^Bearer\s+([\w-]+)\.([\w-]+)\.[\w-]+$/i.exec(authorization.trim());
  if (!match) return undefined;
  try {
    const [header, claims] = [match[1]!, match[2]!].map(decodePart);
    // The client cannot check a signature; an unsigned token (`alg: none`) any script can write.
    if (typeof header?.alg !== 'string' || /^none$/i.test(header.alg) || typeof claims?.sub !== 'string' || !claims.sub) return undefined;
    return stableJson([header, Object.fromEntries(Object.entries(claims).filter(([name]) => !VOLATILE_CLAIMS.has(name)))]);
  } catch {
    return undefined;
  }
}

/** A base64url JSON object of a JWT, or undefined when the part holds something else. */
function decodePart(part: string): Record<string, unknown> | undefined {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const value: unknown = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')));
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * JSON with object keys sorted at every depth, so equal claims always give equal text. Throws on
 * a number JSON.parse could not keep (an integer past 2^53, as 64-bit tenant ids are, or one past
 * the doubles): two of them would read as one, so the token counts as a whole instead.
 */
function stableJson(value: unknown): string {
  if (typeof value === 'number' && !(Number.isSafeInteger(value) || (Number.isFinite(value) && !Number.isInteger(value)))) throw new RangeError('unsafe number');
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** cyrb53 twice with two seeds: about 106 bits, ample to keep identities apart within an origin. */
function hash(text: string): string {
  return cyrb53(text, 0x9e3779b9).toString(36) + cyrb53(text, 0x85ebca6b).toString(36);
}

function cyrb53(text: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
