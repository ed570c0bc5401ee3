import type { ResolvedTransport } from '../protocol/types.js';

/** Where `auto` had to move away from a transport. */
export interface Downgrade {
  transport: ResolvedTransport;
  reason: string;
  until: number;
}

/**
 * Where `auto` had to move away from a transport, by endpoint (origin and path: a buffering proxy
 * does not care about the query), for the connections of a realm. Later connections start where
 * the working one ended, until the entry expires: the network may have changed (another Wi-Fi, a
 * proxy fixed).
 */
export interface Downgrades {
  /** Remembers that `endpoint` needed `transport` for `ttlMs`. */
  remember(endpoint: string, transport: ResolvedTransport, reason: string, ttlMs: number, now?: number): void;
  /** The remembered downgrade of `endpoint`, unless it expired. */
  of(endpoint: string, now?: number): Downgrade | undefined;
}

/** The downgrades of one realm; see {@link Downgrades}. */
export function createDowngrades(): Downgrades {
  const entries = new Map<string, Downgrade>();
  return {
    remember(endpoint, transport, reason, ttlMs, now = Date.now()) {
      entries.set(endpoint, { transport, reason, until: now + ttlMs });
    },
    of(endpoint, now = Date.now()) {
      const entry = entries.get(endpoint);
      if (entry && entry.until <= now) {
        entries.delete(endpoint);
        return undefined;
      }
      return entry;
    },
  };
}

/** Origin and path of `url`: what a downgrade is remembered by. */
export function endpointOf(url: string): string {
  const { origin, pathname } = new URL(url);
  return origin + pathname;
}
