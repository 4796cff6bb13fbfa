/**
 * Cross-origin resource sharing for the HTTP API (Fetch Standard §3.2 "CORS protocol"), as a pure decision:
 * request facts in, what to answer or which headers to add out. The glue is cors-handler.ts.
 *
 * Policy (docs/HTTP.md "Cross-origin pages (CORS)"):
 *   - Only origins listed in `http.cors.allowedOrigins` get CORS headers; none by default (same-origin only).
 *     `*` allows any origin, never together with credentials (Fetch §3.2.5: a credentialed response must
 *     name its origin; config validation refuses the combination, and `*` is only ever sent uncredentialed).
 *   - Covered paths: the messaging APIs (`/v1/*`, `/v1/stream/*`, `/api/*`) and `/js/*`. The management API
 *     (`/v1/admin/*`) only with `allowAdmin`: it can purge and delete, and the console is same-origin.
 *   - A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered here: 204 with the allowed
 *     methods and the requested headers, or 403 when the origin or the path is not allowed.
 *   - Cross-site request forgery: a browser sends simple cross-origin POSTs (form posts, `text/plain`
 *     fetches) without a preflight, with whatever Basic credentials it has cached for the broker. So an
 *     unsafe method (not GET/HEAD/OPTIONS) from a page that is neither same-origin nor allowed is refused
 *     with 403 before any handler runs, whatever the path.
 */

export interface CorsConfig {
  /** Canonical origins (`https://app.example.com`, `http://localhost:3000`), or `*` for any. */
  allowedOrigins: string[];
  /** `Access-Control-Allow-Credentials: true`: pages may send cookies and cached HTTP auth. */
  allowCredentials: boolean;
  /** `Access-Control-Max-Age` of preflight answers. */
  maxAgeSeconds: number;
  /** Also allow the management API (`/v1/admin/*`) cross-origin. */
  allowAdmin: boolean;
}

export const DEFAULT_CORS_CONFIG: Readonly<CorsConfig> = Object.freeze({
  allowedOrigins: [],
  allowCredentials: false,
  maxAgeSeconds: 600,
  allowAdmin: false,
});

/**
 * The ASCII serialization of an http(s) origin (RFC 6454 §6.2: lowercase scheme and host, default port
 * dropped), or undefined for anything else (`null`, other schemes, a path, a query, user info).
 */
export function canonicalOrigin(text: string): string | undefined {
  if (!/^https?:\/\/[^/?#\s]+\/?$/i.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.username !== '' || url.password !== '') return undefined;
  return url.origin;
}

export interface CorsPolicy {
  readonly any: boolean;
  readonly origins: ReadonlySet<string>;
  readonly credentials: boolean;
  readonly maxAge: string;
  readonly admin: boolean;
}

/** Compiles a validated configuration (origins canonical, no `*` with credentials). */
export function corsPolicy(config: CorsConfig): CorsPolicy {
  const any = config.allowedOrigins.includes('*');
  if (any && config.allowCredentials) throw new Error('CORS: "*" cannot be combined with credentials');
  return {
    any,
    origins: new Set(config.allowedOrigins.filter((o) => o !== '*')),
    credentials: config.allowCredentials,
    maxAge: String(config.maxAgeSeconds),
    admin: config.allowAdmin,
  };
}

const API_METHODS = 'GET, HEAD, POST, PUT, DELETE';

/** Methods a covered path accepts (for `Access-Control-Allow-Methods`), or undefined when not covered. */
export function corsMethods(path: string, admin: boolean): string | undefined {
  if (path === '/v1/admin' || path.startsWith('/v1/admin/')) return admin ? API_METHODS : undefined;
  if (path.startsWith('/v1/stream/')) return 'GET';
  if (path === '/v1' || path.startsWith('/v1/')) return API_METHODS;
  if (path === '/api' || path.startsWith('/api/')) return API_METHODS;
  if (path.startsWith('/js/')) return 'GET, HEAD';
  return undefined;
}

/**
 * Response headers a page may read beyond the CORS-safelisted ones. `*` means "all" only for requests
 * without credentials (Fetch §3.2.3); credentialed requests read it as a header name and get the list,
 * which names what /api/message and the /v1 API set (the message headers of mapping.ts, auth challenges).
 */
const EXPOSE_HEADERS = [
  '*',
  'id',
  'destination',
  'redelivered',
  'delivery-count',
  'jmspriority',
  'jmsdeliverymode',
  'jmstimestamp',
  'jmsexpiration',
  'jmscorrelationid',
  'jmsreplyto',
  'jmsxgroupid',
  'etag',
  'location',
  'retry-after',
  'www-authenticate',
].join(', ');

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Requested headers echoed in a preflight answer, at most; a longer list is cut (the browser then fails). */
const MAX_REQUEST_HEADERS = 64;

export interface CorsRequest {
  method: string;
  path: string;
  origin: string | undefined;
  /** `Host` header, to recognise same-origin requests of browsers without `Sec-Fetch-Site`. */
  host: string | undefined;
  /** `Sec-Fetch-Site` (Fetch Metadata): `same-origin`, `same-site`, `cross-site` or `none`. */
  fetchSite: string | undefined;
  /** `Access-Control-Request-Method`: present only on a preflight. */
  requestMethod: string | undefined;
  /** `Access-Control-Request-Headers`. */
  requestHeaders: string | undefined;
  /** `Access-Control-Request-Private-Network` (Chrome's Private Network Access preflight). */
  requestPrivateNetwork: string | undefined;
}

/** What tells where a request comes from. */
export type OriginFacts = Pick<CorsRequest, 'origin' | 'host' | 'fetchSite'>;

export type CorsDecision =
  /** Let the handlers answer, with these headers added (possibly none). */
  | { readonly kind: 'pass'; readonly headers: Readonly<Record<string, string>> }
  /** Answer now: a preflight (204) or a refusal (403). */
  | {
      readonly kind: 'answer';
      readonly status: 204 | 403;
      readonly headers: Readonly<Record<string, string>>;
      readonly reason?: string;
    };

const NONE: CorsDecision = Object.freeze({ kind: 'pass', headers: Object.freeze({}) });
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameOrigin(r: OriginFacts): boolean {
  if (r.fetchSite !== undefined) return r.fetchSite === 'same-origin' || r.fetchSite === 'none';
  if (r.origin === undefined || r.host === undefined) return false;
  // Browsers without Fetch Metadata: compare with the Host the page addressed. A same-origin POST under
  // `Referrer-Policy: no-referrer` (the console's) carries `Origin: null` (Fetch §3.1 "serializing a request
  // origin"), so `null` passes here; browsers that could forge it from a sandbox all send Sec-Fetch-Site.
  if (r.origin === 'null') return true;
  const host = r.host.toLowerCase();
  return r.origin === `http://${host}` || r.origin === `https://${host}` || canonicalHost(r.origin, host);
}

/** `http://h:80` is sent as `http://h`: compare through the canonical form when the cheap test failed. */
function canonicalHost(origin: string, host: string): boolean {
  const o = canonicalOrigin(origin);
  if (o === undefined) return false;
  const scheme = o.slice(0, o.indexOf(':'));
  return canonicalOrigin(`${scheme}://${host}`) === o;
}

function allowed(policy: CorsPolicy, origin: string): boolean {
  return policy.any || policy.origins.has(origin);
}

function allowHeaders(policy: CorsPolicy, origin: string): Record<string, string> {
  const h: Record<string, string> = {
    'access-control-allow-origin': policy.any ? '*' : origin,
  };
  if (policy.credentials) h['access-control-allow-credentials'] = 'true';
  return h;
}

function requestedHeaders(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const names: string[] = [];
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase();
    if (TOKEN.test(name) && names.length < MAX_REQUEST_HEADERS) names.push(name);
  }
  return names.length > 0 ? names.join(', ') : undefined;
}

function refuse(reason: string): CorsDecision {
  return { kind: 'answer', status: 403, headers: {}, reason };
}

/**
 * Whether a WebSocket upgrade may proceed. RFC 6455 §10.2: a browser always sends `Origin` with a
 * WebSocket handshake and the server is the only one who can refuse a page of another origin, since the
 * same-origin policy does not apply to WebSockets. Without this, any web page open in a browser on the
 * broker's host (or on its network) could connect to `ws://broker:8161/stomp` and publish or consume with
 * whatever the broker grants an unauthenticated or cached-credential connection. So: no `Origin` (not a
 * browser: the protocol's own authentication decides), the broker's own origin, or an origin of
 * `http.cors.allowedOrigins` (`*` for any).
 */
export function upgradeOriginAllowed(policy: CorsPolicy, r: OriginFacts): boolean {
  if (r.origin === undefined || sameOrigin(r)) return true;
  return allowed(policy, r.origin);
}

/** What to do with one request. Pure. */
export function corsDecision(policy: CorsPolicy, r: CorsRequest): CorsDecision {
  if (r.origin === undefined) return NONE;
  const methods = corsMethods(r.path, policy.admin);
  const enabled = policy.any || policy.origins.size > 0;
  // Answers differ by Origin once any origin is allowed: caches must key on it (Fetch §3.2.5 note).
  const vary = enabled && !policy.any && methods !== undefined ? { vary: 'Origin' } : undefined;
  const cross = !sameOrigin(r);
  const ok = cross && allowed(policy, r.origin) && methods !== undefined;

  if (r.method === 'OPTIONS' && r.requestMethod !== undefined) {
    if (!cross) return NONE;
    if (methods === undefined) return refuse(`no cross-origin access to ${r.path}`);
    if (!ok) return refuse(`origin ${r.origin} is not allowed (http.cors.allowedOrigins)`);
    const headers: Record<string, string> = {
      ...allowHeaders(policy, r.origin),
      'access-control-allow-methods': methods,
      'access-control-max-age': policy.maxAge,
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    };
    const echo = requestedHeaders(r.requestHeaders);
    if (echo !== undefined) headers['access-control-allow-headers'] = echo;
    // Chrome's Private Network Access: a public page reaching a broker on a private address asks too.
    if (r.requestPrivateNetwork === 'true') headers['access-control-allow-private-network'] = 'true';
    return { kind: 'answer', status: 204, headers };
  }

  if (ok) {
    return {
      kind: 'pass',
      headers: {
        ...allowHeaders(policy, r.origin),
        'access-control-expose-headers': EXPOSE_HEADERS,
        ...vary,
      },
    };
  }
  if (cross && !SAFE_METHODS.has(r.method)) {
    return refuse(`cross-origin ${r.method} from ${r.origin} is not allowed (http.cors.allowedOrigins)`);
  }
  return vary ? { kind: 'pass', headers: vary } : NONE;
}
