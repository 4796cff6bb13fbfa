/**
 * Bearer tokens (security/tokens.ts) with a fake clock, and the HTTP authenticator over them
 * (protocol/http/auth.ts): Basic with the credential cache, Bearer, stamps that end cached logins.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/core/api.js';
import { createHttpAuthenticator, parseAuthorization } from '../../../src/protocol/http/auth.js';
import { CredentialCache } from '../../../src/protocol/http/credential-cache.js';
import { HttpError } from '../../../src/protocol/http/errors.js';
import { TokenStore } from '../../../src/security/tokens.js';

const alice: Principal = { user: 'alice', anonymous: false };
const bob: Principal = { user: 'bob', anonymous: false };

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenStore', () => {
  it('issues opaque base64url tokens that stand for their principal until they expire', () => {
    const c = clock();
    const store = new TokenStore({ ttlMs: 1000, maxTokens: 10, now: c.now });
    const { token, expiresAt } = store.issue(alice, 's1');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBe(c.now() + 1000);
    expect(store.lookup(token)).toMatchObject({ principal: alice, stamp: 's1' });
    c.advance(999);
    expect(store.lookup(token)?.principal).toBe(alice);
    c.advance(1);
    expect(store.lookup(token)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('revokes one token, or all of a user', () => {
    const store = new TokenStore({ ttlMs: 1000, maxTokens: 10 });
    const a1 = store.issue(alice, 's').token;
    const a2 = store.issue(alice, 's').token;
    const b = store.issue(bob, 's').token;
    expect(store.revoke(a1)).toBe(true);
    expect(store.revoke(a1)).toBe(false);
    expect(store.lookup(a1)).toBeUndefined();
    expect(store.revokeUser('alice')).toBe(1);
    expect(store.lookup(a2)).toBeUndefined();
    expect(store.lookup(b)?.principal).toBe(bob);
  });

  it('bounds tokens per user (the oldest goes) and in all (then LIMIT_EXCEEDED, after sweeping expired)', () => {
    const c = clock();
    const store = new TokenStore({ ttlMs: 100, maxTokens: 3, maxPerUser: 2, now: c.now });
    const first = store.issue(alice, 's').token;
    store.issue(alice, 's');
    store.issue(alice, 's');
    expect(store.lookup(first)).toBeUndefined();
    expect(store.size).toBe(2);
    store.issue(bob, 's');
    expect(() => store.issue(bob, 's')).toThrow(expect.objectContaining({ code: 'LIMIT_EXCEEDED' }));
    c.advance(100);
    expect(store.issue(bob, 's').token).toBeTruthy();
    expect(store.size).toBe(1);
  });

  it('never finds a token it did not issue', () => {
    const store = new TokenStore({ ttlMs: 1000, maxTokens: 10 });
    store.issue(alice, 's');
    fc.assert(
      fc.property(fc.string(), (t) => {
        expect(store.lookup(t)).toBeUndefined();
      }),
    );
  });
});

describe('CredentialCache', () => {
  it('hits only for the same user, password and stamp, within the TTL; bounded LRU', () => {
    const c = clock();
    const cache = new CredentialCache({ ttlMs: 100, maxEntries: 2, now: c.now });
    cache.set('alice', 'pw', alice, 's1');
    expect(cache.get('alice', 'pw', 's1')).toBe(alice);
    expect(cache.get('alice', 'PW', 's1')).toBeUndefined();
    expect(cache.get('alice', 'pw', 's2')).toBeUndefined();
    // A stamp mismatch drops the entry.
    expect(cache.get('alice', 'pw', 's1')).toBeUndefined();
    cache.set('alice', 'pw', alice, 's1');
    cache.set('bob', 'pw', bob, 's1');
    cache.get('alice', 'pw', 's1');
    cache.set('carol', 'pw', bob, 's1');
    expect(cache.size).toBe(2);
    expect(cache.get('bob', 'pw', 's1')).toBeUndefined();
    expect(cache.get('alice', 'pw', 's1')).toBe(alice);
    c.advance(100);
    expect(cache.get('alice', 'pw', 's1')).toBeUndefined();
  });
});

function fakeBase(users: Record<string, string>) {
  const calls = { authenticate: 0 };
  const stamps: Record<string, string> = Object.fromEntries(Object.keys(users).map((u) => [u, 'v1']));
  return {
    calls,
    stamps,
    users,
    base: {
      required: true,
      async authenticate(login: string | undefined, passcode: string | undefined) {
        calls.authenticate++;
        return login !== undefined && users[login] === passcode ? { user: login, anonymous: false } : null;
      },
      async credentialStamp(user: string) {
        return users[user] === undefined ? undefined : stamps[user];
      },
    },
  };
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('createHttpAuthenticator', () => {
  const make = (f: ReturnType<typeof fakeBase>, now = Date.now) =>
    createHttpAuthenticator(f.base, {
      tokens: new TokenStore({ ttlMs: 1000, maxTokens: 100, now }),
      credentialCacheTtlMs: 60_000,
      credentialCacheSize: 100,
      now,
    });

  it('runs the slow check once per Basic login, and again after a password change', async () => {
    const f = fakeBase({ alice: 'pw' });
    const auth = make(f);
    expect(await auth.authenticateHeader(basic('alice', 'pw'))).toEqual(alice);
    expect(await auth.authenticateHeader(basic('alice', 'pw'))).toEqual(alice);
    expect(f.calls.authenticate).toBe(1);
    f.stamps.alice = 'v2';
    f.users.alice = 'new';
    await expect(auth.authenticateHeader(basic('alice', 'pw'))).rejects.toMatchObject({ status: 401 });
    expect(f.calls.authenticate).toBe(2);
  });

  it('never caches a failure', async () => {
    const f = fakeBase({ alice: 'pw' });
    const auth = make(f);
    for (let i = 0; i < 3; i++) {
      await expect(auth.authenticateHeader(basic('alice', 'x'))).rejects.toMatchObject({
        status: 401,
        headers: { 'www-authenticate': expect.stringMatching(/^Basic/) },
      });
    }
    expect(f.calls.authenticate).toBe(3);
  });

  it('issues tokens that authenticate as Bearer or access_token, until revoked, expired or the user changes', async () => {
    const c = clock();
    const f = fakeBase({ alice: 'pw', bob: 'pw2' });
    const auth = make(f, c.now);
    await expect(auth.issueToken('alice', 'bad')).rejects.toMatchObject({ status: 401 });
    const { token } = await auth.issueToken('alice', 'pw');
    expect(await auth.authenticateHeader(`Bearer ${token}`)).toEqual(alice);
    expect(await auth.authenticateHeader(undefined, token)).toEqual(alice);
    auth.tokens.revoke(token);
    await expect(auth.authenticateHeader(`Bearer ${token}`)).rejects.toMatchObject({
      status: 401,
      headers: { 'www-authenticate': expect.stringMatching(/^Bearer .*invalid_token/) },
    });
    const t2 = (await auth.issueToken('alice', 'pw')).token;
    c.advance(1000);
    await expect(auth.authenticateHeader(`Bearer ${t2}`)).rejects.toMatchObject({ status: 401 });
    const t3 = (await auth.issueToken('bob', 'pw2')).token;
    f.stamps.bob = 'changed';
    await expect(auth.authenticateHeader(`Bearer ${t3}`)).rejects.toMatchObject({ status: 401 });
  });

  it('is anonymous without users, and issues a token then too', async () => {
    const anon = { user: 'anonymous', anonymous: true };
    const auth = createHttpAuthenticator(
      { required: false, authenticate: async () => anon, credentialStamp: async () => 'anonymous' },
      {
        tokens: new TokenStore({ ttlMs: 1000, maxTokens: 10 }),
        credentialCacheTtlMs: 0,
        credentialCacheSize: 0,
      },
    );
    expect(await auth.authenticateHeader(undefined)).toBe(anon);
    const { token } = await auth.issueToken(undefined, undefined);
    expect(await auth.authenticateHeader(`Bearer ${token}`)).toBe(anon);
  });
});

describe('parseAuthorization', () => {
  it('reads Basic and Bearer, refuses other schemes and malformed values with 400', () => {
    expect(parseAuthorization(basic('a', 'b:c'))).toEqual({ scheme: 'basic', user: 'a', password: 'b:c' });
    expect(parseAuthorization('bearer abc-._~+/=')).toEqual({ scheme: 'bearer', token: 'abc-._~+/=' });
    expect(parseAuthorization(undefined)).toBeUndefined();
    for (const bad of ['Digest x', 'Bearer', 'Bearer a b', 'Basic !!']) {
      expect(() => parseAuthorization(bad)).toThrow(HttpError);
    }
  });

  it('never throws anything but an HttpError 400, whatever the header', () => {
    fc.assert(
      fc.property(fc.string(), (h) => {
        try {
          parseAuthorization(h);
        } catch (e) {
          expect(e).toBeInstanceOf(HttpError);
          expect((e as HttpError).status).toBe(400);
        }
      }),
    );
  });
});
