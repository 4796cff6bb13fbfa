/**
 * `GET /v1/stream/<name>?type=topic|queue` (or `/v1/stream/topic%3A%2F%2Fprices.%3E`): a Server-Sent Events
 * stream of an address (sse-stream.ts), authenticated like every HTTP request. Query: `selector`,
 * `format=text|json`. `Last-Event-ID` resume is not offered yet: a reconnecting browser receives from now.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, BrokerCore } from '../../core/api.js';
import type { Logger } from '../../util/logger.js';
import { authenticate } from './auth.js';
import { HttpError, toHttpError } from './errors.js';
import { sendJson } from './messaging.js';
import { type HttpLimits, parseAddress } from './request.js';
import { encodeComment, encodeRetry } from './sse-codec.js';
import { SseStream } from './sse-stream.js';

export const STREAM_PATH = '/v1/stream';
/** Deliveries handed to a stream per turn: enough for bursts, bounded for memory. */
const PREFETCH = 100;
const RECONNECT_MS = 3000;

export interface SseRequest {
  address: string;
  selector: string | undefined;
  format: 'text' | 'json';
}

/** Parses a stream request; undefined when the path is not ours. Throws HttpError. Pure. */
export function parseStreamRequest(method: string, url: string): SseRequest | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.startsWith(`${STREAM_PATH}/`)) return undefined;
  if (method !== 'GET') throw new HttpError(405, `method ${method} not allowed`, { allow: 'GET' });
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const rest = path.slice(STREAM_PATH.length);
  let address: string;
  let decoded: string | undefined;
  try {
    decoded = decodeURIComponent(rest.slice(1));
  } catch {
    decoded = undefined;
  }
  if (decoded !== undefined && /^(queue|topic):\/\/[^\0-\x1f\x7f]+$/.test(decoded)) address = decoded;
  else address = parseAddress(rest, query);
  const format = query.get('format') ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new HttpError(400, `unknown format "${format}": expected "text" or "json"`);
  }
  return { address, selector: query.get('selector') ?? undefined, format };
}

export interface SseEndpointContext {
  core: BrokerCore;
  authenticator: Authenticator;
  limits: HttpLimits;
  logger: Logger;
}

export interface SseEndpoint {
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  readonly streams: number;
  /** Ends every stream (broker shutdown). */
  close(): void;
}

export function sseEndpoint(ctx: SseEndpointContext): SseEndpoint {
  const { limits } = ctx;
  const live = new Set<SseStream>();

  async function open(req: IncomingMessage, res: ServerResponse, r: SseRequest): Promise<void> {
    const principal = await authenticate(ctx.authenticator, req.headers.authorization);
    if (live.size >= limits.maxStreams) {
      throw new HttpError(503, 'too many event streams', { 'retry-after': '5' });
    }
    const connection = ctx.core.connect({
      principal,
      protocol: 'http-sse',
      remoteAddress: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`,
    });
    if (res.destroyed) {
      connection.close();
      return;
    }
    let stream: SseStream;
    try {
      stream = new SseStream(
        res,
        connection,
        {
          address: r.address,
          ...(r.selector !== undefined ? { selector: r.selector } : {}),
          heartbeatMs: limits.sseHeartbeatMs,
          slowConsumerTimeoutMs: limits.sseSlowConsumerTimeoutMs,
          format: r.format,
          prefetch: PREFETCH,
        },
        (reason) => {
          live.delete(stream);
          if (reason === 'slow')
            ctx.logger.warn({ address: r.address, user: principal.user }, 'slow SSE client dropped');
        },
      );
    } catch (err) {
      connection.close();
      throw err;
    }
    live.add(stream);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Reverse proxies (nginx) would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    // The first bytes make the browser fire `open` at once instead of at the first event.
    res.write(encodeRetry(RECONNECT_MS) + encodeComment('connected'));
    res.once('close', () => stream.close('client'));
  }

  return {
    get streams() {
      return live.size;
    },
    handle(req, res) {
      let r: SseRequest | undefined;
      try {
        r = parseStreamRequest(req.method ?? 'GET', req.url ?? '/');
      } catch (err) {
        const e = toHttpError(err);
        sendJson(res, e.status, { error: e.message }, e.headers);
        return true;
      }
      if (!r) return false;
      open(req, res, r).catch((err) => {
        const e = toHttpError(err);
        if (e.status >= 500 && e.status !== 503) ctx.logger.error({ err }, 'SSE request failed');
        if (res.headersSent || res.destroyed) res.destroy();
        else sendJson(res, e.status, { error: e.message }, e.headers);
      });
      return true;
    },
    close() {
      for (const s of [...live]) s.close('shutdown');
    },
  };
}
