/**
 * `Authenticator` over the user directory. Authentication is required as soon as one user exists;
 * without users every connection is anonymous (and the broker only binds to loopback, see broker.ts).
 */
import type { Authenticator, Principal } from '../core/api.js';
import { hashPassword, type PasswordHash, verifyPassword } from './password.js';
import type { UserDirectory } from './user-directory.js';

export const ANONYMOUS: Principal = Object.freeze({ user: 'anonymous', anonymous: true });

/**
 * What a cached login (HTTP credential cache, bearer tokens) is checked against on each use: a cheap
 * fingerprint of the user's stored credentials, so that removing a user or changing a password ends
 * cached logins at once, without running scrypt again.
 */
export interface CredentialStamps {
  /** `anonymous` while no users exist; the stored hash's salt+hash for a user; undefined if unknown. */
  credentialStamp(user: string): Promise<string | undefined>;
}

export function createAuthenticator(directory: UserDirectory): Authenticator & CredentialStamps {
  // Unknown user names are checked against this hash so that a refusal takes as long whether or not the
  // user exists (no user enumeration by timing).
  let decoy: Promise<PasswordHash> | undefined;
  return {
    get required() {
      return directory.size > 0;
    },
    async authenticate(login, passcode) {
      await directory.refresh();
      if (directory.size === 0) return ANONYMOUS;
      if (login === undefined || passcode === undefined) return null;
      const user = directory.get(login);
      if (!user) {
        decoy ??= hashPassword('decoy password');
        await verifyPassword(passcode, await decoy);
        return null;
      }
      return (await verifyPassword(passcode, user.password)) ? { user: user.name, anonymous: false } : null;
    },
    async credentialStamp(name) {
      await directory.refresh();
      if (directory.size === 0) return 'anonymous';
      const user = directory.get(name);
      return user ? `${user.password.salt}:${user.password.hash}` : undefined;
    },
  };
}
