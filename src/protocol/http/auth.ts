/**
 * Authentication of HTTP requests: HTTP Basic (RFC 7617) or a bearer token (RFC 6750) from
 * `POST /v1/auth/token` (security/tokens.ts). Without users every request is anonymous (the Authenticator
 * says so); with users a request without valid credentials gets 401 and a `WWW-Authenticate` challenge.
 *
 * Every HTTP endpoint (REST, /v1, SSE, management) authenticates through `authenticate` or
 * `authenticateRequest` here. Given the broker's `HttpAuthenticator` (createHttpAuthenticator) they accept
 * Basic and Bearer and cache verified Basic logins (credential-cache.ts); given a plain Authenticator they
 * accept Basic only, running scrypt every time.
 */
import type { IncomingMessage } from 'node:http';
import type { Authenticator, Principal } from '../../core/api.js';
import { CredentialCache } from './credential-cache.js';
import { HttpError } from './errors.js';

export const REALM = 'blazemq';
const BASIC_CHALLENGE = `Basic realm="${REALM}", charset="UTF-8"`;

export type Credentials =
  | { scheme: 'basic'; user: string; password: string }
  | { scheme: 'bearer'; token: string };

/** `Basic base64(user:password)` -> the pair; undefined when absent; 400 when malformed. */
export function parseBasic(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!m) throw new HttpError(400, 'malformed Authorization header: expected Basic credentials');
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  // RFC 7617 §2: the user-id cannot contain a colon; the password may.
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new HttpError(400, 'malformed Basic credentials: no ":" between user and password');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** An Authorization header as Basic or Bearer credentials; undefined when absent; 400 when malformed. */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  // RFC 6750 §2.1: `Bearer` SP b64token, b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  const bearer = /^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/i.exec(header);
  if (bearer) return { scheme: 'bearer', token: bearer[1]! };
  if (/^Bearer\b/i.test(header)) throw new HttpError(400, 'malformed Authorization header: bad bearer token');
  if (!/^Basic\b/i.test(header)) {
    throw new HttpError(400, 'unsupported Authorization scheme: expected Basic or Bearer', {
      'www-authenticate': BASIC_CHALLENGE,
    });
  }
  const basic = parseBasic(header)!;
  return { scheme: 'basic', ...basic };
}

export interface IssuedToken {
  token: string;
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Where bearer tokens live (security/tokens.ts TokenStore; injected by the broker, as protocols do not
 * import security). `stamp` is the user's credential stamp when the token was issued.
 */
export interface BearerTokens {
  issue(principal: Principal, stamp: string): IssuedToken;
  lookup(token: string): { readonly principal: Principal; readonly stamp: string } | undefined;
  revoke(token: string): boolean;
}

/**
 * An Authenticator that can also fingerprint a user's stored credentials (security/authenticator.ts):
 * cached logins and tokens are checked against it on each use, so a removed user or a changed password
 * ends them at once.
 */
export type StampingAuthenticator = Authenticator & {
  credentialStamp?(user: string): Promise<string | undefined>;
};

/** The broker's authenticator for HTTP: Basic with a credential cache, plus bearer tokens. */
export interface HttpAuthenticator extends Authenticator {
  readonly tokens: BearerTokens;
  readonly credentialCache: CredentialCache;
  /**
   * The principal of a request's `Authorization` header (or, for clients that cannot set headers such as
   * the browser's EventSource, an `access_token` query parameter: RFC 6750 §2.3). Throws HttpError 400/401.
   */
  authenticateHeader(authorization: string | undefined, queryToken?: string): Promise<Principal>;
  /** `POST /v1/auth/token`: a login (no users: anyone) -> a token. Throws HttpError 401 / BlazeError. */
  issueToken(login: string | undefined, passcode: string | undefined): Promise<IssuedToken>;
}

export interface HttpAuthOptions {
  tokens: BearerTokens;
  credentialCacheTtlMs: number;
  credentialCacheSize: number;
  now?: () => number;
}

function isHttpAuthenticator(a: Authenticator): a is HttpAuthenticator {
  return typeof (a as Partial<HttpAuthenticator>).authenticateHeader === 'function';
}

function unauthorized(message: string, challenge: string = BASIC_CHALLENGE): HttpError {
  return new HttpError(401, message, { 'www-authenticate': challenge });
}

export function createHttpAuthenticator(
  base: StampingAuthenticator,
  options: HttpAuthOptions,
): HttpAuthenticator {
  const now = options.now ?? Date.now;
  const tokens = options.tokens;
  const credentialCache = new CredentialCache({
    ttlMs: options.credentialCacheTtlMs,
    maxEntries: options.credentialCacheSize,
    now,
  });
  // An authenticator without stamps (embedding, tests) cannot tell a changed password: use a constant,
  // and the cache TTL bounds how long a cached login outlives a change.
  const stampOf = (user: string): Promise<string | undefined> =>
    base.credentialStamp ? base.credentialStamp(user) : Promise.resolve('static');

  async function login(user: string | undefined, password: string | undefined): Promise<Principal | null> {
    if (user === undefined || password === undefined || !credentialCache.enabled) {
      return base.authenticate(user, password);
    }
    const stamp = await stampOf(user);
    const cached = credentialCache.get(user, password, stamp);
    if (cached) return cached;
    const principal = await base.authenticate(user, password);
    // Stamp taken before scrypt: if the password changed meanwhile, the entry simply never matches.
    if (principal !== null && stamp !== undefined) credentialCache.set(user, password, principal, stamp);
    return principal;
  }

  async function bearer(token: string): Promise<Principal> {
    const challenge = `Bearer realm="${REALM}", error="invalid_token"`;
    const record = tokens.lookup(token);
    if (!record) throw unauthorized('invalid or expired token', challenge);
    if ((await stampOf(record.principal.user)) !== record.stamp) {
      tokens.revoke(token);
      throw unauthorized('token no longer valid: the user or its password changed', challenge);
    }
    return record.principal;
  }

  return {
    get required() {
      return base.required;
    },
    tokens,
    credentialCache,
    authenticate: login,
    async authenticateHeader(authorization, queryToken) {
      const credentials =
        parseAuthorization(authorization) ??
        (queryToken !== undefined ? { scheme: 'bearer' as const, token: queryToken } : undefined);
      if (credentials?.scheme === 'bearer') return bearer(credentials.token);
      const principal = await login(credentials?.user, credentials?.password);
      if (principal === null) {
        throw unauthorized(credentials ? 'bad credentials' : 'authentication required');
      }
      return principal;
    },
    async issueToken(user, password) {
      const principal = await login(user, password);
      if (principal === null) throw unauthorized('bad credentials');
      const stamp = await stampOf(principal.user);
      if (stamp === undefined) throw unauthorized('bad credentials');
      return tokens.issue(principal, stamp);
    },
  };
}

/**
 * The principal of an `Authorization` header. With an HttpAuthenticator: Basic or Bearer; with a plain
 * Authenticator: Basic only. Throws HttpError 400 (malformed) or 401 (with a challenge).
 */
export async function authenticate(
  authenticator: Authenticator,
  authorization: string | undefined,
): Promise<Principal> {
  if (isHttpAuthenticator(authenticator)) return authenticator.authenticateHeader(authorization);
  const credentials = parseAuthorization(authorization);
  if (credentials?.scheme === 'bearer') {
    throw unauthorized('bearer tokens are not enabled on this endpoint');
  }
  const principal = await authenticator.authenticate(credentials?.user, credentials?.password);
  if (principal === null) throw unauthorized(credentials ? 'bad credentials' : 'authentication required');
  return principal;
}

/**
 * The principal of a request: its `Authorization` header, else (when `allowQueryToken`) an `access_token`
 * query parameter. For the management API and every other HTTP handler.
 */
export function authenticateRequest(
  authenticator: Authenticator,
  req: IncomingMessage,
  allowQueryToken = false,
): Promise<Principal> {
  const header = req.headers.authorization;
  if (allowQueryToken && header === undefined && isHttpAuthenticator(authenticator)) {
    const q = (req.url ?? '').indexOf('?');
    const token = q < 0 ? null : new URLSearchParams(req.url!.slice(q + 1)).get('access_token');
    if (token !== null) return authenticator.authenticateHeader(undefined, token);
  }
  return authenticate(authenticator, header);
}
