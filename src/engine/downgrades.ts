import type { ResolvedTransport } from '../protocol/types.js';

interface Downgrade {
  transport: ResolvedTransport;
  reason: string;
  until: number;
}

/**
 * Where `auto` had to move away from a transport, by endpoint (origin and path: a buffering proxy
 * does not care about the query). Later connections of this realm start where the working one
 * ended, until the entry expires: the network may have changed (another Wi-Fi, a proxy fixed).
 */
const downgrades = new Map<string, Downgrade>();

/** Remembers that `endpoint` needed `transport` for `ttlMs`. */
export function rememberDowngrade(endpoint: string, transport: ResolvedTransport, reason: string, ttlMs: number, now = Date.now()): void {
  downgrades.set(endpoint, { transport, reason, until: now + ttlMs });
}

/** The remembered downgrade of `endpoint`, unless it expired. */
export function downgradeOf(endpoint: string, now = Date.now()): Downgrade | undefined {
  const entry = downgrades.get(endpoint);
  if (entry && entry.until <= now) {
    downgrades.delete(endpoint);
    return undefined;
  }
  return entry;
}

/** Origin and path of `url`: what a downgrade is remembered by. */
export function endpointOf(url: string): string {
  const { origin, pathname } = new URL(url);
  return origin + pathname;
}
