// The disconnects kept for requests in admission (src/server/revocations.ts), alone.
import { describe, expect, it } from 'vitest';
import { createRevocations } from '../../../src/server/revocations.js';
import { MAX_KEPT_DISCONNECTS } from '../../../src/server/server-options.js';

const user = (name: string) => (identity: unknown) => identity === name;

describe('revocations', () => {
  it('revokes a request for a matching disconnect made after it arrived, not before, and not for another identity', () => {
    const revocations = createRevocations();
    revocations.record(user('ann'));
    const early = revocations.admit();
    const late = revocations.admit();
    expect(early.revoked('ann', [])).toBe(false);
    revocations.record(user('ann'));
    expect(late.revoked('ann', [])).toBe(true);
    expect(late.revoked('bob', [])).toBe(false);
    early.done();
    late.done();
    expect(revocations.admit().revoked('ann', [])).toBe(false);
  });

  it('keeps a bounded number of disconnects for a request stuck in admission, then refuses it', () => {
    const revocations = createRevocations();
    const stuck = revocations.admit();
    for (let i = 0; i < MAX_KEPT_DISCONNECTS; i++) revocations.record(user(`other ${i}`));
    expect(stuck.revoked('ann', [])).toBe(false);
    revocations.record(user('still another'));
    expect(stuck.revoked('ann', [])).toBe(true);
    // A request that arrives now has missed nothing.
    const fresh = revocations.admit();
    revocations.record(user('bob'));
    expect(fresh.revoked('ann', [])).toBe(false);
    expect(fresh.revoked('bob', [])).toBe(true);
  });
});
