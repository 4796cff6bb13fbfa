/**
 * `GET /v1/stream/<name>?type=topic|queue` (or `/v1/stream/topic%3A%2F%2Fprices.%3E`): a Server-Sent Events
 * stream of an address, authenticated like every HTTP request (plus `?access_token=` for EventSource, which
 * cannot send headers). Query: `selector`, `format=text|json`.
 *
 * Resume (`Last-Event-ID`, or `?lastEventId=` for polyfills that cannot send it):
 *   - topics: streamed from a per-(address, selector) history ring (sse-feed.ts, sse-history.ts); a
 *     reconnecting browser gets what it missed, or a `gap` event saying how much it lost. Without history
 *     (`limits.http.sseHistorySize` 0, or the recorder limit reached) a topic stream is live only
 *     (sse-stream.ts);
 *   - queues: the queue is the history. A message is acked once its event is flushed to the OS; what a
 *     vanished browser had not got goes back to the queue and comes first on the next stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authenticator, BrokerCore } from '../../core/api.js';
import type { Logger } from '../../util/logger.js';
import { authenticateRequest } from './auth.js';
import { HttpError } from './errors.js';
import { remoteOf, sendError } from './reply.js';
import { type HttpLimits, parseAddress } from './request.js';
import { encodeComment, encodeRetry } from './sse-codec.js';
import { TopicFeeds } from './sse-feed.js';
import { type SseCloseReason, SseStream } from './sse-stream.js';

export const STREAM_PATH = '/v1/stream';
const NO_SINK = { deliver: () => undefined };
const STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
  // Reverse proxies (nginx) would otherwise buffer the stream.
  'x-accel-buffering': 'no',
};
/** Deliveries handed to a stream per turn: enough for bursts, bounded for memory. */
const PREFETCH = 100;
const RECONNECT_MS = 3000;

export interface SseRequest {
  address: string;
  selector: string | undefined;
  format: 'text' | 'json';
  /** `?lastEventId=`; the `Last-Event-ID` header takes precedence. */
  lastEventId: string | undefined;
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
  return {
    address,
    selector: query.get('selector') ?? undefined,
    format,
    lastEventId: query.get('lastEventId') ?? undefined,
  };
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
  /** Topic history recorders alive. */
  readonly recorders: number;
  /** Ends every stream (broker shutdown). */
  close(): void;
}

export function sseEndpoint(ctx: SseEndpointContext): SseEndpoint {
  const { limits } = ctx;
  const live = new Set<{ close(reason: SseCloseReason): void }>();
  const feeds = new TopicFeeds({
    maxMessages: limits.sseHistorySize,
    maxBytes: limits.sseHistoryBytes,
    retentionMs: limits.sseHistoryRetentionMs,
    maxRecorders: limits.sseHistoryMaxAddresses,
  });

  async function open(req: IncomingMessage, res: ServerResponse, r: SseRequest): Promise<void> {
    const principal = await authenticateRequest(ctx.authenticator, req, true);
    if (live.size >= limits.maxStreams) {
      throw new HttpError(503, 'too many event streams', { 'retry-after': '5' });
    }
    const remoteAddress = remoteOf(req);
    const connect = () => ctx.core.connect({ principal, protocol: 'http-sse', remoteAddress });
    let stream: { close(reason: SseCloseReason): void } | undefined;
    // An operator closing this connection (management API) ends the stream; a history stream has no
    // subscription of its own that the core could end instead.
    const connection = ctx.core.connect({
      principal,
      protocol: 'http-sse',
      remoteAddress,
      onEvict: () => stream?.close('broker'),
    });
    if (res.destroyed) {
      connection.close();
      return;
    }
    const header = req.headers['last-event-id'];
    const lastEventId = (Array.isArray(header) ? header[0] : header) ?? r.lastEventId;
    const onClosed = (reason: SseCloseReason) => {
      if (stream) live.delete(stream);
      connection.close();
      if (reason === 'slow')
        ctx.logger.warn({ address: r.address, user: principal.user }, 'slow SSE client dropped');
    };
    const selector = r.selector !== undefined ? { selector: r.selector } : {};
    // Set before the stream exists: subscribing may deliver (and write) at once, which sends the headers.
    for (const [name, value] of Object.entries(STREAM_HEADERS)) res.setHeader(name, value);
    try {
      let feed: ReturnType<TopicFeeds['attach']>;
      if (r.address.startsWith('topic://') && feeds.enabled) {
        // The user's own permission (and the address and selector) are checked by a subscription on the
        // user's connection, closed at once: the recorder may belong to another user.
        connection
          .subscribe({ address: r.address, ackMode: 'auto', prefetch: 1, ...selector }, NO_SINK)
          .close();
        feed = feeds.attach({
          address: r.address,
          selector: r.selector,
          lastEventId,
          connect,
          out: res,
          stream: {
            format: r.format,
            heartbeatMs: limits.sseHeartbeatMs,
            slowConsumerTimeoutMs: limits.sseSlowConsumerTimeoutMs,
          },
          onClosed,
        });
      }
      stream =
        feed ??
        new SseStream(
          res,
          connection,
          {
            address: r.address,
            ...selector,
            heartbeatMs: limits.sseHeartbeatMs,
            slowConsumerTimeoutMs: limits.sseSlowConsumerTimeoutMs,
            format: r.format,
            prefetch: PREFETCH,
            ackOnFlush: !r.address.startsWith('topic://') && !r.address.startsWith('temp-topic://'),
          },
          onClosed,
        );
    } catch (err) {
      connection.close();
      if (!res.headersSent) for (const name of Object.keys(STREAM_HEADERS)) res.removeHeader(name);
      throw err;
    }
    const opened = stream;
    live.add(opened);
    // The first bytes make the browser fire `open` at once instead of at the first event.
    res.write(encodeRetry(RECONNECT_MS) + encodeComment('connected'));
    res.once('close', () => opened.close('client'));
  }

  return {
    get streams() {
      return live.size;
    },
    get recorders() {
      return feeds.size;
    },
    handle(req, res) {
      let r: SseRequest | undefined;
      try {
        r = parseStreamRequest(req.method ?? 'GET', req.url ?? '/');
      } catch (err) {
        sendError(res, err, ctx.logger, 'SSE request failed');
        return true;
      }
      if (!r) return false;
      open(req, res, r).catch((err) => sendError(res, err, ctx.logger, 'SSE request failed'));
      return true;
    },
    close() {
      for (const s of [...live]) s.close('shutdown');
      feeds.close();
    },
  };
}
