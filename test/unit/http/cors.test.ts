/**
 * The CORS decision (protocol/http/cors.ts): preflights, headers of actual requests, the CSRF refusal of
 * unsafe cross-site requests, and the configuration rules (no `*` with credentials, canonical origins).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import {
  type CorsConfig,
  type CorsRequest,
  canonicalOrigin,
  corsDecision,
  corsMethods,
  corsPolicy,
  DEFAULT_CORS_CONFIG,
  upgradeOriginAllowed,
} from '../../../src/protocol/http/cors.js';
import { isBlazeError } from '../../../src/util/errors.js';

const APP = 'https://app.example.com';
const policy = (c: Partial<CorsConfig> = {}) =>
  corsPolicy({ ...DEFAULT_CORS_CONFIG, allowedOrigins: [APP], ...c });

function req(r: Partial<CorsRequest>): CorsRequest {
  return {
    method: 'GET',
    path: '/v1/queues/a/messages',
    origin: APP,
    host: 'broker:8161',
    fetchSite: 'cross-site',
    requestMethod: undefined,
    requestHeaders: undefined,
    requestPrivateNetwork: undefined,
    ...r,
  };
}

const preflight = (r: Partial<CorsRequest> = {}) =>
  req({ method: 'OPTIONS', requestMethod: 'POST', requestHeaders: 'Content-Type, Authorization', ...r });

describe('canonicalOrigin', () => {
  it('lowercases, drops default ports and a trailing slash', () => {
    expect(canonicalOrigin('HTTPS://App.Example.COM:443/')).toBe('https://app.example.com');
    expect(canonicalOrigin('http://localhost:3000')).toBe('http://localhost:3000');
    expect(canonicalOrigin('http://[::1]:80')).toBe('http://[::1]');
  });

  it('refuses what is not an http(s) origin', () => {
    for (const bad of ['null', '*', 'ftp://a', 'https://a/b', 'https://a?x', 'https://u:p@a', 'a.com', '']) {
      expect(canonicalOrigin(bad), bad).toBeUndefined();
    }
  });

  it('is idempotent on everything it accepts (property)', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.string(), (url, junk) => {
        for (const text of [url, new URL(url).origin, junk]) {
          const o = canonicalOrigin(text);
          if (o !== undefined) expect(canonicalOrigin(o)).toBe(o);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('corsMethods', () => {
  it('covers the messaging APIs and the script, the management API only when asked', () => {
    expect(corsMethods('/v1/queues/a/messages', false)).toContain('POST');
    expect(corsMethods('/v1/stream/topic%3A%2F%2Fa', false)).toBe('GET');
    expect(corsMethods('/api/message/a', false)).toContain('DELETE');
    expect(corsMethods('/js/blazemq.js', false)).toBe('GET, HEAD');
    expect(corsMethods('/v1/admin/queues', false)).toBeUndefined();
    expect(corsMethods('/v1/admin/queues', true)).toContain('DELETE');
    expect(corsMethods('/metrics', true)).toBeUndefined();
    expect(corsMethods('/', true)).toBeUndefined();
    expect(corsMethods('/v1x', true)).toBeUndefined();
  });
});

describe('preflight', () => {
  it('answers an allowed origin with its methods and the requested headers', () => {
    const d = corsDecision(policy(), preflight());
    expect(d).toEqual({
      kind: 'answer',
      status: 204,
      headers: {
        'access-control-allow-origin': APP,
        'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE',
        'access-control-allow-headers': 'content-type, authorization',
        'access-control-max-age': '600',
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      },
    });
  });

  it('refuses other origins, uncovered paths, and everything by default', () => {
    expect(corsDecision(policy(), preflight({ origin: 'https://evil.example' }))).toMatchObject({
      status: 403,
    });
    expect(corsDecision(policy(), preflight({ path: '/v1/admin/queues' }))).toMatchObject({ status: 403 });
    expect(corsDecision(policy({ allowAdmin: true }), preflight({ path: '/v1/admin/queues' }))).toMatchObject(
      {
        status: 204,
      },
    );
    expect(corsDecision(corsPolicy(DEFAULT_CORS_CONFIG), preflight())).toMatchObject({ status: 403 });
  });

  it('names credentials only when configured, and never pairs them with *', () => {
    const withCreds = corsDecision(policy({ allowCredentials: true }), preflight());
    expect(withCreds.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
    });
    const any = corsDecision(policy({ allowedOrigins: ['*'] }), preflight({ origin: 'https://x.test' }));
    expect(any.headers['access-control-allow-origin']).toBe('*');
    expect(any.headers['access-control-allow-credentials']).toBeUndefined();
    expect(() =>
      corsPolicy({ ...DEFAULT_CORS_CONFIG, allowedOrigins: ['*'], allowCredentials: true }),
    ).toThrow();
  });

  it('echoes only header names that are tokens, and answers Private Network Access', () => {
    const d = corsDecision(
      policy(),
      preflight({
        requestHeaders: 'x-ok, bad header, \r\nx: y, last-event-id',
        requestPrivateNetwork: 'true',
      }),
    );
    expect(d.headers['access-control-allow-headers']).toBe('x-ok, last-event-id');
    expect(d.headers['access-control-allow-private-network']).toBe('true');
  });

  it('leaves same-origin OPTIONS to the handlers', () => {
    expect(corsDecision(policy(), preflight({ fetchSite: 'same-origin' }))).toEqual({
      kind: 'pass',
      headers: {},
    });
  });
});

describe('actual requests', () => {
  it('adds allow-origin, expose-headers and Vary for an allowed origin', () => {
    const d = corsDecision(policy({ allowCredentials: true }), req({ method: 'POST' }));
    expect(d.kind).toBe('pass');
    expect(d.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    // `*` for uncredentialed requests, and the names for credentialed ones (Fetch §3.2.3).
    expect(d.headers['access-control-expose-headers']).toMatch(/^\*, id, destination, /);
  });

  it('passes requests without Origin (curl, servers) untouched', () => {
    expect(corsDecision(policy(), req({ origin: undefined, method: 'DELETE' }))).toEqual({
      kind: 'pass',
      headers: {},
    });
  });

  it('gives a disallowed origin no CORS headers on a safe request (the browser hides the answer)', () => {
    const d = corsDecision(policy(), req({ origin: 'https://evil.example' }));
    expect(d).toEqual({ kind: 'pass', headers: { vary: 'Origin' } });
  });

  it('refuses unsafe cross-site requests from origins not allowed (CSRF), whatever the path', () => {
    for (const path of ['/api/message/a', '/v1/admin/queues/a/purge', '/anything']) {
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const d = corsDecision(
          corsPolicy(DEFAULT_CORS_CONFIG),
          req({ origin: 'https://evil.example', path, method }),
        );
        expect(d, `${method} ${path}`).toMatchObject({ kind: 'answer', status: 403 });
      }
    }
    // ...even an allowed origin on a path CORS does not cover.
    expect(corsDecision(policy(), req({ method: 'POST', path: '/v1/admin/queues/a/purge' }))).toMatchObject({
      status: 403,
    });
  });

  it('recognises same-origin requests by Sec-Fetch-Site, else by Host', () => {
    const none = corsPolicy(DEFAULT_CORS_CONFIG);
    const same = (r: Partial<CorsRequest>) =>
      corsDecision(none, req({ method: 'POST', ...r })).kind === 'pass';
    expect(same({ fetchSite: 'same-origin', origin: 'null' })).toBe(true);
    expect(same({ fetchSite: 'same-site', origin: 'https://other.example.com' })).toBe(false);
    expect(same({ fetchSite: undefined, origin: 'http://broker:8161' })).toBe(true);
    expect(same({ fetchSite: undefined, origin: 'http://broker', host: 'BROKER:80' })).toBe(true);
    expect(same({ fetchSite: undefined, origin: 'http://broker:8162' })).toBe(false);
    // The console sends `Origin: null` on same-origin POSTs (Referrer-Policy: no-referrer).
    expect(same({ fetchSite: undefined, origin: 'null' })).toBe(true);
  });
});

describe('configuration (http.cors)', () => {
  const message = (doc: unknown) => {
    try {
      parseConfig(doc);
      return 'ok';
    } catch (e) {
      return isBlazeError(e) ? e.message : String(e);
    }
  };

  it('defaults to no cross-origin access', () => {
    expect(parseConfig({}).http.cors).toEqual(DEFAULT_CORS_CONFIG);
  });

  it('stores origins canonical', () => {
    const c = parseConfig({ http: { cors: { allowedOrigins: ['HTTPS://App.Example.com:443', '*'] } } });
    expect(c.http.cors.allowedOrigins).toEqual(['https://app.example.com', '*']);
  });

  it('explains bad origins, unknown keys and * with credentials', () => {
    expect(message({ http: { cors: { allowedOrigins: ['app.example.com'] } } })).toContain(
      'http.cors.allowedOrigins[0]: expected an origin',
    );
    expect(message({ http: { cors: { allowOrigins: [] } } })).toContain(
      'http.cors.allowOrigins: unknown key',
    );
    expect(message({ http: { cors: { allowedOrigins: ['*'], allowCredentials: true } } })).toContain(
      'cannot be combined',
    );
  });
});

describe('WebSocket upgrades (upgradeOriginAllowed)', () => {
  const facts = (origin: string | undefined, fetchSite?: string) => ({
    origin,
    host: 'broker:8161',
    fetchSite,
  });

  it('lets through clients without Origin, the broker own pages and allowed origins', () => {
    expect(upgradeOriginAllowed(policy(), facts(undefined))).toBe(true);
    expect(upgradeOriginAllowed(policy(), facts('http://broker:8161'))).toBe(true);
    expect(upgradeOriginAllowed(policy(), facts('http://other:1', 'same-origin'))).toBe(true);
    expect(upgradeOriginAllowed(policy(), facts(APP, 'cross-site'))).toBe(true);
    expect(
      upgradeOriginAllowed(policy({ allowedOrigins: ['*'] }), facts('https://x.test', 'cross-site')),
    ).toBe(true);
  });

  it('refuses every other page, by default all cross-origin ones', () => {
    expect(upgradeOriginAllowed(policy(), facts('https://evil.test', 'cross-site'))).toBe(false);
    expect(upgradeOriginAllowed(policy(), facts('https://evil.test'))).toBe(false);
    expect(upgradeOriginAllowed(policy({ allowedOrigins: [] }), facts(APP, 'cross-site'))).toBe(false);
    // Fetch Metadata wins over a Host that happens to match.
    expect(
      upgradeOriginAllowed(policy({ allowedOrigins: [] }), facts('http://broker:8161', 'cross-site')),
    ).toBe(false);
  });
});
