/**
 * The broker's HTTP endpoint: `GET /health` for orchestrators (200 once the broker accepts connections,
 * 503 while starting or stopping), plus the handlers the broker mounts (REST messaging) and WebSocket
 * upgrades (STOMP and MQTT over WebSocket, net/ws-transport.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { BlazeError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';

export type BrokerState = 'starting' | 'ready' | 'stopping';

export interface HealthReport {
  state: BrokerState;
  /** Extra fields for the body (listeners, uptime...). */
  details?: Record<string, unknown>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  health: () => HealthReport;
  /**
   * Tried in order for every request but /health; a handler returns false when the path is not its own.
   * It owns the response once it returns true (it may answer later: long polls).
   */
  handlers?: ReadonlyArray<(req: IncomingMessage, res: ServerResponse) => boolean>;
  /** WebSocket upgrades; without it every upgrade request is refused. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Longest a request may take, long polls included. Default 30 s. */
  requestTimeoutMs?: number;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function handle(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions): void {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== '/health') {
    for (const h of options.handlers ?? []) if (h(req, res)) return;
    sendJson(res, 404, { error: 'not found' });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
    return;
  }
  const { state, details } = options.health();
  const ok = state === 'ready';
  sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : state, ...details });
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server = createServer((req, res) => {
    try {
      handle(req, res, options);
    } catch (err) {
      options.logger.error({ err }, 'http handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  });
  // A client that dawdles over its headers is not one we want.
  server.headersTimeout = 10_000;
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (options.upgrade) options.upgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        new BlazeError('CONFIG', `http: cannot listen on ${options.host}:${options.port}: ${err.code}`, {
          cause: err,
        }),
      );
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => options.logger.error({ err }, 'http server error'));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Idle keep-alive connections would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
