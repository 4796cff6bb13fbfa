/**
 * The management API (`/v1/admin/...`) and Prometheus metrics (`/metrics`) on the broker's HTTP listener.
 * The admin HTTP server mounts `handle`; each request is authenticated (HTTP Basic or bearer token, by the
 * function the broker passes in), matched (router.ts), and served by its handler (handlers.ts). Every
 * failure is a JSON `{error, code}` (errors.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../../core/api.js';
import type { BlazeCore } from '../../core/index.js';
import { readBody } from '../../protocol/http/body.js';
import { HttpError } from '../../protocol/http/errors.js';
import { remoteOf, sendError, sendJson } from '../../protocol/http/reply.js';
import type { Logger } from '../../util/logger.js';
import { ALL, HANDLERS, type HandlerContext, TAKES_BODY } from './handlers.js';
import type { BrokerMetrics } from './metrics.js';
import { RateWindow } from './rates.js';
import { matchRoute, type RouteName } from './router.js';

export interface ManagementContext {
  core: BlazeCore;
  /** Who sent the request; rejects with a 401 HttpError (and its challenge header) when refused. */
  authenticate(req: IncomingMessage): Promise<Principal>;
  logger: Logger;
  version: string;
  /** Epoch ms the broker started (overview uptime). Default: now. */
  startedAt?: number;
  /** Largest JSON request body. Default 1 MiB. */
  maxBodySize?: number;
  /** Served at /metrics when given (authenticated like the API once users exist). */
  metrics?: BrokerMetrics;
  /** How often the overview's rate window samples the counters (ms). Default 1000; 0 = only on request. */
  sampleEveryMs?: number;
}

export interface ManagementApi {
  /** For the HTTP server: true when the request is ours (then answered, now or later). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Stops the rate sampler. */
  close(): void;
}

export const METRICS_PATH = '/metrics';
const DEFAULT_MAX_BODY = 1024 * 1024;

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const raw = await readBody(req, limit);
  if (raw.length === 0) return undefined;
  const type = req.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  if (type !== undefined && type !== 'application/json' && !type.endsWith('+json')) {
    throw new HttpError(415, `expected an application/json body, got '${type.slice(0, 64)}'`);
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}

export function managementApi(ctx: ManagementContext): ManagementApi {
  const log = ctx.logger;
  const maxBody = ctx.maxBodySize ?? DEFAULT_MAX_BODY;
  const rates = new RateWindow();
  const sample = () => {
    const t = ctx.core.admin.totals();
    rates.add({ at: Date.now(), enqueued: t.enqueued, dequeued: t.dequeued });
  };
  const handlerCtx: HandlerContext = {
    core: ctx.core,
    version: ctx.version,
    startedAt: ctx.startedAt ?? Date.now(),
    rates,
    sample,
  };
  const every = ctx.sampleEveryMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  if (every > 0) {
    timer = setInterval(() => {
      try {
        sample();
      } catch (err) {
        log.warn({ err }, 'rate sampling failed');
      }
    }, every);
    // Sampling must never keep a stopping process alive.
    timer.unref();
  }

  const fail = (res: ServerResponse, err: unknown) => sendError(res, err, log, 'management request failed');

  async function serveRoute(
    req: IncomingMessage,
    res: ServerResponse,
    name: RouteName,
    params: Readonly<Record<string, string>>,
    query: URLSearchParams,
  ): Promise<void> {
    const principal = await ctx.authenticate(req);
    const body = TAKES_BODY.has(name) ? await readJson(req, maxBody) : undefined;
    const reply = await HANDLERS[name](handlerCtx, {
      principal,
      params,
      query,
      body,
      remoteAddress: remoteOf(req),
    });
    sendJson(res, reply.status, reply.body);
  }

  async function serveMetrics(
    req: IncomingMessage,
    res: ServerResponse,
    metrics: BrokerMetrics,
  ): Promise<void> {
    const principal = await ctx.authenticate(req);
    ctx.core.admin.authorize(principal, ALL);
    const text = await metrics.scrape();
    res.writeHead(200, {
      'content-type': metrics.contentType,
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(text);
  }

  return {
    handle(req, res) {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      if (path === METRICS_PATH && ctx.metrics !== undefined) {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          sendJson(res, 405, { error: 'method not allowed', code: 'BAD_REQUEST' }, { allow: 'GET, HEAD' });
          return true;
        }
        serveMetrics(req, res, ctx.metrics).catch((err) => fail(res, err));
        return true;
      }
      let match: ReturnType<typeof matchRoute>;
      try {
        match = matchRoute(req.method ?? 'GET', path);
      } catch (err) {
        fail(res, err);
        return true;
      }
      if (match.kind === 'none') {
        // Unknown paths under our prefix are ours to refuse (JSON), not the next handler's.
        if (!path.startsWith('/v1/admin/') && path !== '/v1/admin') return false;
        sendJson(res, 404, {
          error: `no management endpoint ${path.slice(0, 200)}`,
          code: 'NOT_FOUND',
        });
        return true;
      }
      if (match.kind === 'method') {
        const allow = [...new Set(match.allow.includes('GET') ? [...match.allow, 'HEAD'] : match.allow)].join(
          ', ',
        );
        sendJson(res, 405, { error: `method ${req.method} not allowed`, code: 'BAD_REQUEST' }, { allow });
        return true;
      }
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      serveRoute(req, res, match.name, match.params, query).catch((err) => fail(res, err));
      return true;
    },
    close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
