/**
 * The broker's HTTP endpoint. For now only `GET /health` for orchestrators (200 once the broker accepts
 * connections, 503 while starting or stopping); the REST management API will be added here.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
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
  // Health probes are tiny; a client that dawdles over its headers is not one.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
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
