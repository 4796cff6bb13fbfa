/**
 * A TCP listener that hands every accepted socket to one protocol through `attachSession`.
 * It enforces the connection limit and knows how to shut down in two steps, so that the broker can stop
 * accepting, let the core finish in-flight work (receipts still reach clients), then end connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { BlazeError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { attachSession, type TcpTransport, type TcpTransportOptions } from './tcp-transport.js';
import type { ProtocolFactory } from './transport.js';

export interface ListenOptions {
  /** Name for logs, e.g. 'stomp'. */
  name: string;
  host: string;
  /** 0 picks a free port; the bound one is on the result. */
  port: number;
  protocol: ProtocolFactory;
  /** Connections beyond this are closed as soon as they are accepted. */
  maxConnections: number;
  logger: Logger;
  transport?: TcpTransportOptions;
  /**
   * The server to accept on (default: a plain TCP server) and the event that hands over a connection
   * ready for the protocol: tls-listener.ts passes a TLS server and 'secureConnection'.
   */
  server?: { create: () => Server; connectionEvent: 'connection' | 'secureConnection' };
}

export interface Listener {
  readonly port: number;
  readonly host: string;
  /** Live connections. */
  readonly connections: number;
  /** Stop accepting new connections; live ones are untouched. */
  stopAccepting(): void;
  /**
   * Stop accepting, `end()` every connection (queued output is flushed), and resolve once all sockets are
   * closed; connections still open after `timeoutMs` are destroyed.
   */
  close(timeoutMs?: number): Promise<void>;
}

export async function listen(options: ListenOptions): Promise<Listener> {
  const log = options.logger.child({ listener: options.name });
  const live = new Map<Socket, TcpTransport>();
  let accepting = true;
  let nextId = 1;

  const server: Server = options.server?.create() ?? createServer({ pauseOnConnect: false });
  server.on(options.server?.connectionEvent ?? 'connection', (socket: Socket) => {
    if (!accepting) {
      socket.destroy();
      return;
    }
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    if (live.size >= options.maxConnections) {
      log.warn({ remote, maxConnections: options.maxConnections }, 'connection refused: limit reached');
      socket.destroy();
      return;
    }
    const id = nextId++;
    const connLog = log.child({ conn: id });
    const opened = Date.now();
    // Logged before the session starts so that the session's own log lines follow it.
    connLog.info({ remote }, 'connection open');
    socket.once('close', () => {
      live.delete(socket);
      connLog.info({ remote, durationMs: Date.now() - opened }, 'connection closed');
    });
    live.set(socket, attachSession(socket, options.protocol, { ...options.transport, logger: connLog }));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(
        new BlazeError(
          'CONFIG',
          `${options.name}: cannot listen on ${options.host}:${options.port}: ${err.code}`,
          {
            cause: err,
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'listener error'));

  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  const stopAccepting = () => {
    if (!accepting) return;
    accepting = false;
    server.close();
  };

  return {
    port,
    host: options.host,
    get connections() {
      return live.size;
    },
    stopAccepting,
    async close(timeoutMs = 5000) {
      stopAccepting();
      if (live.size === 0) return;
      const allClosed = Promise.all(
        [...live.keys()].map((s) => new Promise<void>((resolve) => s.once('close', () => resolve()))),
      );
      for (const t of live.values()) t.end();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([allClosed, timedOut]);
      clearTimeout(timer);
      for (const s of live.keys()) s.destroy();
      await allClosed;
    },
  };
}
