import { describe, expect, it } from 'vitest';
import { credentialsKeyOf } from '../../src/client/credentials-key.js';

// Tabs share an upstream only when the key shows they hold the same identity: a key that merges
// two users hands one user's per-user events to the other.

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const token = (header: Record<string, unknown>, claims: Record<string, unknown>, signature = 'c2ln') => `${part(header)}.${part(claims)}.${signature}`;
const key = (authorization: string, extra: Record<string, string> = {}) => credentialsKeyOf({ Authorization: authorization, ...extra });
const bearer = (header: Record<string, unknown>, claims: Record<string, unknown>, signature?: string) => key(`Bearer ${token(header, claims, signature)}`);

const HS = { alg: 'HS256', typ: 'JWT' };
const alice = { iss: 'https://id.example', sub: 'alice', aud: 'app' };

describe('credentialsKeyOf: when tokens share', () => {
  it('refreshed tokens of one identity share: same header and identity claims, new iat, exp, nbf, jti and signature', () => {
    const first = bearer(HS, { ...alice, iat: 1, exp: 100, nbf: 1, jti: 'a' }, 'c2lnMQ');
    const refreshed = bearer(HS, { ...alice, iat: 90, exp: 190, nbf: 90, jti: 'b' }, 'c2lnMg');
    expect(first).not.toBe('');
    expect(refreshed).toBe(first);
  });

  it('claim order and the token padding do not matter', () => {
    expect(bearer(HS, { aud: 'app', sub: 'alice', iss: 'https://id.example' })).toBe(bearer(HS, alice));
    expect(key(`bearer  ${token(HS, alice)}  `)).toBe(bearer(HS, alice));
  });
});

describe('credentialsKeyOf: when they never do', () => {
  it('tokens without sub that differ only in jti (session-id tokens) do not share', () => {
    const session = { iss: 'https://id.example', sid: 'shared-session-shape', iat: 1, exp: 100 };
    const aliceTab = bearer(HS, { ...session, jti: 'session-of-alice' });
    const bobTab = bearer(HS, { ...session, jti: 'session-of-bob' });
    expect(aliceTab).not.toBe(bobTab);
  });

  it('a token without sub counts as a whole: even its own refresh is another key', () => {
    const claims = { iss: 'https://id.example', scope: 'read' };
    expect(bearer(HS, { ...claims, iat: 1 })).not.toBe(bearer(HS, { ...claims, iat: 2 }));
    expect(bearer(HS, { ...claims, sub: '' })).not.toBe(bearer(HS, { ...claims, sub: '', iat: 2 }));
  });

  it("an unsigned token (alg: none) copying alice's claims does not join alice's stream", () => {
    const real = bearer(HS, alice);
    for (const alg of ['none', 'None', 'NONE']) {
      expect(bearer({ alg, typ: 'JWT' }, alice, '')).not.toBe(real);
      expect(key(`Bearer ${part({ alg, typ: 'JWT' })}.${part(alice)}.`)).not.toBe(real);
    }
    // Counted as a whole, two forged tokens of different times do not share with each other either.
    expect(key(`Bearer ${part({ alg: 'none' })}.${part({ ...alice, iat: 1 })}.`)).not.toBe(key(`Bearer ${part({ alg: 'none' })}.${part({ ...alice, iat: 2 })}.`));
  });

  it('a token without a signature, or without alg, counts as a whole', () => {
    expect(key(`Bearer ${part(HS)}.${part(alice)}.`)).not.toBe(bearer(HS, alice));
    expect(bearer({ typ: 'JWT' }, { ...alice, iat: 1 })).not.toBe(bearer({ typ: 'JWT' }, { ...alice, iat: 2 }));
  });

  it('the header counts: another alg, kid or typ is another key', () => {
    const keys = [
      bearer(HS, alice),
      bearer({ ...HS, alg: 'RS256' }, alice),
      bearer({ ...HS, kid: 'key-1' }, alice),
      bearer({ ...HS, kid: 'key-2' }, alice),
      bearer({ ...HS, typ: 'at+jwt' }, alice),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('another user, issuer, audience, tenant claim or scope is another key', () => {
    const keys = [
      bearer(HS, alice),
      bearer(HS, { ...alice, sub: 'bob' }),
      bearer(HS, { ...alice, iss: 'https://other.example' }),
      bearer(HS, { ...alice, aud: 'admin' }),
      bearer(HS, { ...alice, tenant: 'acme' }),
      bearer(HS, { ...alice, scope: 'write' }),
      bearer(HS, alice),
    ];
    expect(new Set(keys).size).toBe(keys.length - 1);
    expect(keys[6]).toBe(keys[0]);
  });

  it('numeric claims that differ only past 2^53 (64-bit tenant ids) are other keys: such a token counts as a whole', () => {
    // JSON.parse reads both ids as 9007199254740992: as parsed claims they would be one tenant.
    const raw = (claims: string) => key(`Bearer ${part(HS)}.${Buffer.from(claims).toString('base64url')}.c2ln`);
    const org1 = raw('{"sub":"alice","org_id":9007199254740993,"iat":1}');
    const org2 = raw('{"sub":"alice","org_id":9007199254740992,"iat":1}');
    expect(org1).not.toBe(org2);
    expect(raw('{"sub":"alice","n":1e400}')).not.toBe(raw('{"sub":"alice","n":2e400}'));
    // Safe numbers keep the identity rule: a refresh of the same claims is the same key.
    expect(raw('{"sub":"alice","org_id":42,"ratio":0.5,"iat":1}')).toBe(raw('{"sub":"alice","org_id":42,"ratio":0.5,"iat":2}'));
  });

  it('another header beside the token is another key (X-Tenant), and opaque tokens count as a whole', () => {
    expect(key(`Bearer ${token(HS, alice)}`, { 'X-Tenant': 'acme' })).not.toBe(bearer(HS, alice));
    expect(key('Bearer opaque-1')).not.toBe(key('Bearer opaque-2'));
    expect(key('Basic YWxpY2U6cHc=')).not.toBe(key('Basic Ym9iOnB3'));
  });

  it('parts that are not JSON objects make the token count as a whole', () => {
    const notJson = `Bearer ${Buffer.from('not json').toString('base64url')}.${part(alice)}.c2ln`;
    const arrayClaims = `Bearer ${part(HS)}.${part([alice])}.c2ln`;
    expect(key(notJson)).not.toBe(bearer(HS, alice));
    expect(key(arrayClaims)).not.toBe(bearer(HS, alice));
    expect(key(arrayClaims)).not.toBe(key(`Bearer ${part(HS)}.${part([{ sub: 'bob' }])}.c2ln`));
  });

  it('keys hold neither the token nor its claims', () => {
    const t = token(HS, alice);
    const k = key(`Bearer ${t}`);
    expect(k).not.toContain(t);
    expect(k).not.toContain('alice');
  });
});
