import type { StreamMatcher } from './disconnect-filter.js';
import { MAX_KEPT_DISCONNECTS } from './server-options.js';

/** A request between its arrival and its registration as an open connection. */
export interface Admission {
  /**
   * True when a `disconnect` since the request arrived matches it: it must not open. Called
   * in the same synchronous step as the registration, so no disconnect falls in between.
   */
  revoked<I>(identity: I, topics: readonly string[]): boolean;
  /** The request is registered, refused or gone: stop keeping disconnects for it. */
  done(): void;
}

/** The disconnects that requests still in admission must be checked against. */
export interface Revocations {
  /** A request arrives. */
  admit(): Admission;
  /** `disconnect` ran with `matches`: requests in admission now are checked against it. */
  record(matches: StreamMatcher<unknown>): void;
}

/**
 * A request is in admission while `authenticate` and `authorize` run (they may take a while,
 * e.g. a database lookup): it is not yet an open connection that `disconnect` could end. Each
 * disconnect is kept, numbered, for as long as some request that arrived before it is still in
 * admission; the request checks the ones numbered after its arrival when it registers. With no
 * request in admission nothing is kept.
 */
export function createRevocations(): Revocations {
  let count = 0;
  const recorded: Array<{ at: number; matches: StreamMatcher<unknown> }> = [];
  const pending = new Map<number, number>(); // arrival number → requests that arrived then
  // Past MAX_KEPT_DISCONNECTS kept for requests stuck in admission, the oldest are dropped and
  // every request that arrived before the last dropped one is refused: it tries again.
  let refuseBefore = 0;

  const forget = () => {
    if (pending.size === 0) return void (recorded.length = 0);
    const oldest = Math.min(...pending.keys());
    let drop = 0;
    while (drop < recorded.length && recorded[drop]!.at <= oldest) drop++;
    if (drop > 0) recorded.splice(0, drop);
  };

  return {
    admit() {
      const arrived = count;
      pending.set(arrived, (pending.get(arrived) ?? 0) + 1);
      let open = true;
      return {
        revoked(identity, topics) {
          if (arrived < refuseBefore) return true;
          for (const { at, matches } of recorded) if (at > arrived && matches(identity, topics)) return true;
          return false;
        },
        done() {
          if (!open) return;
          open = false;
          const left = pending.get(arrived)! - 1;
          if (left === 0) pending.delete(arrived);
          else pending.set(arrived, left);
          forget();
        },
      };
    },
    record(matches) {
      count++;
      if (pending.size === 0) return;
      recorded.push({ at: count, matches });
      if (recorded.length > MAX_KEPT_DISCONNECTS) refuseBefore = recorded.shift()!.at;
    },
  };
}
