import { describe, expect, it } from 'vitest';
import type { AclRule } from '../../../src/config/schema.js';
import type { Principal } from '../../../src/core/api.js';
import { createAuthorizer } from '../../../src/security/authorizer.js';
import { UserDirectory } from '../../../src/security/user-directory.js';
import type { UserRecord } from '../../../src/security/users-file.js';

const hash = { algorithm: 'scrypt', N: 2, r: 1, p: 1, salt: '', hash: '' } as const;
const user = (name: string, groups: string[] = []): UserRecord => ({ name, groups, password: { ...hash } });
const who = (name: string): Principal => ({ user: name, anonymous: false });
const rule = (pattern: string, permissions: AclRule['permissions'], subject: Partial<AclRule>): AclRule => ({
  pattern,
  permissions,
  users: [],
  groups: [],
  ...subject,
});

describe('authorizer', () => {
  it('allows everything, even anonymous, when no users exist', () => {
    const authz = createAuthorizer([], UserDirectory.fromRecords([]));
    expect(authz.allowed({ user: 'anonymous', anonymous: true }, 'admin', 'queue://x')).toBe(true);
  });

  const directory = UserDirectory.fromRecords([
    user('root', ['admins']),
    user('alice', ['traders']),
    user('bob'),
  ]);
  const authz = createAuthorizer(
    [
      rule('queue://orders.>', ['write'], { groups: ['traders'] }),
      rule('topic://prices.*', ['read'], { users: ['bob'] }),
      rule('topic://public.>', ['read'], { users: ['*'] }),
    ],
    directory,
  );

  it('denies by default once users exist', () => {
    expect(authz.allowed(who('bob'), 'write', 'queue://orders.eu')).toBe(false);
    expect(authz.allowed(who('alice'), 'read', 'queue://orders.eu')).toBe(false);
    expect(authz.allowed({ user: 'anonymous', anonymous: true }, 'read', 'topic://public.news')).toBe(false);
    expect(authz.allowed(who('ghost'), 'read', 'topic://prices.IBM')).toBe(false);
  });

  it('grants by group, by user, and to every user with "*"', () => {
    expect(authz.allowed(who('alice'), 'write', 'queue://orders.eu')).toBe(true);
    expect(authz.allowed(who('bob'), 'read', 'topic://prices.IBM')).toBe(true);
    expect(authz.allowed(who('bob'), 'read', 'topic://prices.NASDAQ.IBM')).toBe(false);
    expect(authz.allowed(who('alice'), 'read', 'topic://public.news')).toBe(true);
    expect(authz.allowed(who('ghost'), 'read', 'topic://public.news')).toBe(true);
  });

  it('gives the admins group everything', () => {
    expect(authz.allowed(who('root'), 'admin', 'queue://anything')).toBe(true);
    expect(authz.allowed(who('root'), 'read', 'topic://>')).toBe(true);
  });

  it('does not let a wildcard subscription reach beyond the rule', () => {
    expect(authz.allowed(who('bob'), 'read', 'topic://prices.*')).toBe(true);
    expect(authz.allowed(who('bob'), 'read', 'topic://prices.>')).toBe(false);
  });

  it('requires every part of a composite destination', () => {
    expect(authz.allowed(who('alice'), 'write', 'queue://orders.a,queue://orders.b')).toBe(true);
    expect(authz.allowed(who('alice'), 'write', 'queue://orders.a,queue://other')).toBe(false);
  });
});
