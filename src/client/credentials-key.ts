import type { HeadersInit } from '../protocol/types.js';

/** Claims that change when a token is refreshed, not who or what it stands for. */
const VOLATILE_CLAIMS = new Set(['iat', 'exp', 'nbf', 'jti']);

/**
 * Names the credentials in `headers` without keeping them: tabs whose keys match share one
 * upstream, others never do. The key covers every header; a bearer JWT in `Authorization`
 * counts by its claims without `iat`, `exp`, `nbf` and `jti`, so a refreshed token of the same
 * identity keeps the key while another user, tenant or scope changes it. `''` when there are no
 * headers. Apps with opaque tokens that rotate pass `credentialsKey`.
 */
export function credentialsKeyOf(headers: HeadersInit): string {
  const entries = Object.entries(headers)
    .map(([name, value]) => {
      const lower = name.toLowerCase();
      const claims = lower === 'authorization' ? jwtClaims(value) : undefined;
      return [lower, claims ? `jwt ${stableJson(claims)}` : value] as const;
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '' : hash(JSON.stringify(entries));
}

function jwtClaims(authorization: string): Record<string, unknown> | undefined {
  const match = /^Bearer\s+[\w-]+\.([\w-]+)\.[\w-]*$/i.exec(authorization.trim());
  if (!match) return undefined;
  try {
    const base64 = match[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
    return Object.fromEntries(Object.entries(claims).filter(([name]) => !VOLATILE_CLAIMS.has(name)));
  } catch {
    return undefined;
  }
}

/** JSON with object keys sorted at every depth, so equal claims always give equal text. */
function stableJson(value: unknown): string {
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
