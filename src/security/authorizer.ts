/**
 * `Authorizer` from ACL rules. A rule grants its permissions on the addresses its pattern covers to the
 * users and groups it names. Members of the group `admins` may do everything. Without any configured user
 * the broker is open (loopback only); once users exist, whatever no rule grants is denied.
 */
import type { AclRule } from '../config/schema.js';
import type { Authorizer, Permission, Principal } from '../core/api.js';
import { BlazeError } from '../util/errors.js';
import { type AddressPattern, parseAddressPattern, patternCovers } from './address-pattern.js';
import type { UserDirectory } from './user-directory.js';

export const ADMIN_GROUP = 'admins';

interface CompiledRule {
  pattern: AddressPattern;
  anyUser: boolean;
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
  permissions: ReadonlySet<Permission>;
}

function compile(rule: AclRule): CompiledRule {
  const pattern = parseAddressPattern(rule.pattern);
  if (typeof pattern === 'string')
    throw new BlazeError('CONFIG', `acl: bad pattern "${rule.pattern}": ${pattern}`);
  return {
    pattern,
    anyUser: rule.users.includes('*'),
    users: new Set(rule.users),
    groups: new Set(rule.groups),
    permissions: new Set(rule.permissions),
  };
}

export function createAuthorizer(rules: readonly AclRule[], directory: UserDirectory): Authorizer {
  const compiled = rules.map(compile);
  const allowed = (principal: Principal, permission: Permission, address: string): boolean => {
    if (directory.size === 0) return true;
    if (principal.anonymous) return false;
    // A composite destination (`queue://a,topic://b`) is allowed only if each part is.
    if (address.includes(',')) return address.split(',').every((a) => allowed(principal, permission, a));
    const groups = directory.get(principal.user)?.groups ?? [];
    if (groups.includes(ADMIN_GROUP)) return true;
    for (const r of compiled) {
      if (!r.permissions.has(permission)) continue;
      const applies = r.anyUser || r.users.has(principal.user) || groups.some((g) => r.groups.has(g));
      if (applies && patternCovers(r.pattern, address)) return true;
    }
    return false;
  };
  return { allowed };
}
