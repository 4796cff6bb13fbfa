/**
 * The CORS policy (cors.ts) on node:http: mounted first among the HTTP handlers, it answers preflights and
 * refusals itself and otherwise adds its headers to the response (`setHeader`, merged into the handler's
 * later `writeHead`) and lets the next handler answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CorsConfig, corsDecision, corsPolicy, upgradeOriginAllowed } from './cors.js';
import { errorBody, HttpError } from './errors.js';
import { sendJson } from './reply.js';

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export function corsHandler(config: CorsConfig): (req: IncomingMessage, res: ServerResponse) => boolean {
  const policy = corsPolicy(config);
  return (req, res) => {
    const origin = header(req, 'origin');
    // Not a browser's cross-origin request: nothing to decide (the common case, kept cheap).
    if (origin === undefined) return false;
    const decision = corsDecision(policy, {
      method: req.method ?? 'GET',
      path: (req.url ?? '/').split('?', 1)[0]!,
      origin,
      host: header(req, 'host'),
      fetchSite: header(req, 'sec-fetch-site'),
      requestMethod: header(req, 'access-control-request-method'),
      requestHeaders: header(req, 'access-control-request-headers'),
      requestPrivateNetwork: header(req, 'access-control-request-private-network'),
    });
    if (decision.kind === 'pass') {
      for (const [k, v] of Object.entries(decision.headers)) res.setHeader(k, v);
      return false;
    }
    if (decision.status === 403) {
      const e = new HttpError(403, decision.reason ?? 'cross-origin request refused');
      sendJson(res, 403, errorBody(e), decision.headers);
    } else {
      res.writeHead(204, { ...decision.headers, 'content-length': '0' });
      res.end();
    }
    // The request body (if any) is not ours to read: drain it so keep-alive survives.
    req.resume();
    return true;
  };
}

/** The Origin rule for WebSocket upgrades (cors.ts `upgradeOriginAllowed`) on node:http requests. */
export function upgradeOriginCheck(config: CorsConfig): (req: IncomingMessage) => boolean {
  const policy = corsPolicy(config);
  return (req) =>
    upgradeOriginAllowed(policy, {
      origin: header(req, 'origin'),
      host: header(req, 'host'),
      fetchSite: header(req, 'sec-fetch-site'),
    });
}
