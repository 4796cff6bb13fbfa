/**
 * Bearer tokens (RFC 6750) for the HTTP endpoints: `POST /v1/auth/token` trades a login for an opaque
 * random token, which then stands for that login until it expires or is revoked.
 *
 * - A token is 32 random bytes in base64url: unguessable, so it carries no signature and no claims.
 * - Tokens live in memory only: a broker restart logs every browser out, which is the safe direction.
 * - The map is keyed by SHA-256 of the token, not the token: a lookup compares digests of attacker input,
 *   and a heap dump does not hand out usable tokens.
 * - Counts are bounded: at most `maxPerUser` per user (issuing one more revokes that user's oldest, so a
 *   script that logs in on every run cannot fill the store), and `maxTokens` in all (then `issue` throws
 *   LIMIT_EXCEEDED rather than evicting someone else's session).
 * - Each token records a `stamp` of the credentials it was issued for (see authenticator.ts
 *   `credentialStamp`); the caller compares it with the current one, so a removed user or a changed password
 *   ends the user's tokens at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from '../core/api.js';
import { BlazeError } from '../util/errors.js';

export interface IssuedToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface TokenRecord {
  readonly principal: Principal;
  readonly expiresAt: number;
  /** What `credentialStamp` said when the token was issued. */
  readonly stamp: string;
}

export interface TokenStoreOptions {
  ttlMs: number;
  maxTokens: number;
  maxPerUser?: number;
  now?: () => number;
  /** For tests: the random source. */
  random?: (bytes: number) => Buffer;
}

export const TOKEN_BYTES = 32;
/** base64url of 32 bytes: 43 characters. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}

export class TokenStore {
  private readonly byDigest = new Map<string, TokenRecord>();
  /** Per user, digests in issue order (oldest first). */
  private readonly byUser = new Map<string, string[]>();
  private readonly now: () => number;
  private readonly random: (bytes: number) => Buffer;
  private readonly maxPerUser: number;

  constructor(private readonly options: TokenStoreOptions) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? randomBytes;
    this.maxPerUser = options.maxPerUser ?? 100;
  }

  get size(): number {
    return this.byDigest.size;
  }

  issue(principal: Principal, stamp: string): IssuedToken {
    const now = this.now();
    const list = this.byUser.get(principal.user) ?? [];
    while (list.length >= this.maxPerUser) this.remove(list[0]!);
    if (this.byDigest.size >= this.options.maxTokens) this.sweep();
    if (this.byDigest.size >= this.options.maxTokens) {
      throw new BlazeError('LIMIT_EXCEEDED', 'too many tokens issued; retry later');
    }
    const token = this.random(TOKEN_BYTES).toString('base64url');
    const key = digest(token);
    const expiresAt = now + this.options.ttlMs;
    this.byDigest.set(key, { principal, expiresAt, stamp });
    const current = this.byUser.get(principal.user) ?? list;
    current.push(key);
    this.byUser.set(principal.user, current);
    return { token, expiresAt };
  }

  /** The live record of a token, or undefined (unknown, malformed or expired; an expired one is dropped). */
  lookup(token: string): TokenRecord | undefined {
    if (!TOKEN_SHAPE.test(token)) return undefined;
    const key = digest(token);
    const record = this.byDigest.get(key);
    if (record === undefined) return undefined;
    if (record.expiresAt <= this.now()) {
      this.remove(key);
      return undefined;
    }
    return record;
  }

  /** True when the token existed (expired or not). */
  revoke(token: string): boolean {
    if (!TOKEN_SHAPE.test(token)) return false;
    return this.remove(digest(token));
  }

  /** Ends every token of a user (password change, removal). */
  revokeUser(user: string): number {
    const list = this.byUser.get(user);
    if (!list) return 0;
    const n = list.length;
    for (const key of [...list]) this.remove(key);
    return n;
  }

  /** Drops expired tokens; done on demand when the store is full, so no timer is needed. */
  sweep(): number {
    const now = this.now();
    let n = 0;
    for (const [key, r] of this.byDigest) {
      if (r.expiresAt <= now && this.remove(key)) n++;
    }
    return n;
  }

  clear(): void {
    this.byDigest.clear();
    this.byUser.clear();
  }

  private remove(key: string): boolean {
    const record = this.byDigest.get(key);
    if (!record) return false;
    this.byDigest.delete(key);
    const list = this.byUser.get(record.principal.user);
    if (list) {
      const i = list.indexOf(key);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byUser.delete(record.principal.user);
    }
    return true;
  }
}
