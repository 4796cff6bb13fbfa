/**
 * Cache of verified HTTP Basic logins, so that a script polling with Basic auth does not run scrypt
 * (tens of ms and 32 MiB, security/password.ts) on every request.
 *
 * Keyed by HMAC-SHA256(user NUL password) under a random key drawn per process: the cache never holds a
 * password, a key cannot be computed without that in-memory secret, and a wrong password maps to another
 * key (a miss, so it pays the full scrypt: failures are never cached and guessing stays slow).
 *
 * Trade-off: while an entry lives (`ttlMs`, short), someone holding the broker's memory could test password
 * guesses against it with a fast HMAC instead of scrypt; that attacker can read far more already. What a
 * cache could get wrong, a revoked user or a changed password still being accepted, is closed by the stamp
 * check: each hit is compared with the user's current credential stamp (a `stat` of the users file, no
 * scrypt), so a change applies at the next request. Bounded: the oldest entry goes when full (LRU).
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Principal } from '../../core/api.js';

interface Entry {
  principal: Principal;
  stamp: string;
  expiresAt: number;
}

export interface CredentialCacheOptions {
  /** 0 disables the cache. */
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  private readonly secret = randomBytes(32);
  private readonly now: () => number;

  constructor(private readonly options: CredentialCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get enabled(): boolean {
    return this.options.ttlMs > 0 && this.options.maxEntries > 0;
  }

  private key(user: string, password: string): string {
    return createHmac('sha256', this.secret).update(user).update('\0').update(password).digest('base64');
  }

  /** The cached login, if one is live and was made with `stamp` (the user's current credential stamp). */
  get(user: string, password: string, stamp: string | undefined): Principal | undefined {
    if (!this.enabled) return undefined;
    const key = this.key(user, password);
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now() || stamp === undefined || e.stamp !== stamp) {
      this.entries.delete(key);
      return undefined;
    }
    // Refresh its place for LRU eviction (not its expiry: a cached login is re-verified every ttlMs).
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.principal;
  }

  set(user: string, password: string, principal: Principal, stamp: string): void {
    if (!this.enabled) return;
    const key = this.key(user, password);
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { principal, stamp, expiresAt: this.now() + this.options.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }
}
