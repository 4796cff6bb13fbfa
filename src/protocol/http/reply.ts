/**
 * Answering HTTP requests, shared by every endpoint (REST, /v1, SSE, CORS, management): a JSON reply, the
 * JSON error reply for anything a handler threw (errors.ts), and the peer's address for core connections.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../util/logger.js';
import { errorBody, toHttpError } from './errors.js';

/** A JSON reply; no body on 204 (node:http drops the body of a HEAD answer itself). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (status === 204) {
    res.writeHead(status, { ...headers, 'cache-control': 'no-store' });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/**
 * Answers a failed request with `{error, code}` and its status, or cuts the connection when the reply has
 * begun. Unexpected failures (500s) are logged as `what`.
 */
export function sendError(res: ServerResponse, err: unknown, log: Logger, what: string): void {
  const e = toHttpError(err);
  if (e.status >= 500 && e.status !== 503) log.error({ err }, what);
  if (res.headersSent || res.destroyed) res.destroy();
  else sendJson(res, e.status, errorBody(e), e.headers);
}

/** `address:port` of the peer, as core connections record it. */
export function remoteOf(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
}
