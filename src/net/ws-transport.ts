/**
 * WebSocket as a `Transport`, and the upgrade router that hands `/stomp`, `/mqtt` and `/native`
 * connections of the HTTP listener to the same protocol factories the TCP listeners use (ARCHITECTURE:
 * one entry point for every duplex stream).
 *
 * Writes are batched like tcp-transport.ts: every chunk written in one event-loop turn becomes ONE
 * WebSocket message, sent from a `setImmediate`. STOMP, MQTT and the native protocol all parse a byte
 * stream, so message boundaries carry no meaning (MQTT 5.0 §6.0: "a single WebSocket data frame can
 * contain multiple or partial MQTT Control Packets"; stompjs parses chunks the same way; native.proto
 * "Framing").
 *
 * Back-pressure: `write` returns false once queued bytes + `ws.bufferedAmount` (bytes the ws sender and
 * the socket still hold) exceed `highWaterMark`; `onDrain` fires when the socket drains to the low-water
 * mark. Reading is paused with `ws.pause()`, which pauses the underlying socket.
 */
// `isUtf8` (Node >= 18.14) is native: cheap enough to run on every batch.
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../util/logger.js';
import { BufferedTransport, type BufferedTransportOptions } from './buffered-transport.js';
import { SessionFeed } from './session-feed.js';
import type { ProtocolFactory } from './transport.js';

/**
 * How a batch goes on the wire. `binary`: always binary messages (MQTT 5.0 [MQTT-6.0.0-1] requires it).
 * `auto`: a text message when the batch is valid UTF-8 (what text-only STOMP clients expect), binary
 * otherwise (a STOMP body with arbitrary bytes, which a text message must not carry, RFC 6455 §5.6).
 */
export type WsMessageType = 'binary' | 'auto';

export interface WsTransportOptions extends BufferedTransportOptions {
  messageType?: WsMessageType;
}

export class WsTransport extends BufferedTransport {
  private readonly ws: WebSocket;
  private readonly messageType: WsMessageType;

  constructor(ws: WebSocket, socket: Duplex, remoteAddress: string, options: WsTransportOptions = {}) {
    // The drain that matters is the socket's: ws has no 'drain' of its own.
    super(
      remoteAddress,
      socket.writableHighWaterMark,
      { pause: () => ws.pause(), resume: () => ws.resume() },
      options,
    );
    this.ws = ws;
    this.messageType = options.messageType ?? 'binary';
    socket.on('drain', () => this.carrierDrained());
    ws.once('close', () => this.carrierClosedNow());
  }

  protected get carrierDone(): boolean {
    return this.ws.readyState !== this.ws.OPEN;
  }

  protected get carrierBuffered(): number {
    return this.ws.bufferedAmount;
  }

  protected send(chunks: Uint8Array[], bytes: number): void {
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const binary = this.messageType === 'binary' || !isUtf8(buf);
    this.ws.send(buf, { binary });
  }

  protected closeGracefully(): void {
    // 1000 = normal closure (RFC 6455 §7.4.1); ws sends it after the queued messages.
    this.ws.close(1000);
  }

  protected terminate(): void {
    this.ws.terminate();
  }
}

/** One WebSocket endpoint of the HTTP listener. */
export interface WsRoute {
  /** Exact request path, e.g. `/stomp`. */
  path: string;
  /** Accepted subprotocols in order of preference; the client must offer one of them. */
  subprotocols: readonly string[];
  protocol: ProtocolFactory;
  /** Largest message accepted (ws closes with 1009 beyond it, before buffering the rest). */
  maxPayload: number;
  messageType: WsMessageType;
}

export interface WsGatewayOptions {
  routes: readonly WsRoute[];
  /** Per route, like the TCP listeners. */
  maxConnections: number;
  logger: Logger;
  transport?: Omit<WsTransportOptions, 'messageType'>;
  /**
   * Whether the page (or program) asking for the upgrade may have it; refused with 403 otherwise. The
   * broker passes the HTTP layer's Origin policy (protocol/http/cors.ts `upgradeOriginAllowed`).
   */
  allowOrigin?: (req: IncomingMessage) => boolean;
}

export type UpgradeDecision = { route: WsRoute; subprotocol: string } | { status: number; reason: string };

/**
 * Pure choice of route and subprotocol for an upgrade request: 404 for an unknown path, 400 when the
 * client offers none of the route's subprotocols (MQTT 5.0 [MQTT-6.0.0-3]/[MQTT-6.0.0-4]: the client
 * offers "mqtt" and the server selects it; RFC 6455 §4.2.2 lets the server refuse otherwise).
 */
export function chooseRoute(
  routes: readonly WsRoute[],
  path: string,
  offered: string | undefined,
): UpgradeDecision {
  const route = routes.find((r) => r.path === path);
  if (!route) return { status: 404, reason: `no WebSocket endpoint at ${path}` };
  const wanted = new Set((offered ?? '').split(',').map((p) => p.trim().toLowerCase()));
  const subprotocol = route.subprotocols.find((p) => wanted.has(p));
  if (subprotocol === undefined) {
    return {
      status: 400,
      reason: `${path} requires the Sec-WebSocket-Protocol ${route.subprotocols.join(' or ')}`,
    };
  }
  return { route, subprotocol };
}

export interface WsGateway {
  /** For `server.on('upgrade')`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  readonly connections: number;
  stopAccepting(): void;
  /** `end()` every connection and resolve once all are closed; stragglers are terminated after `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
}

function refuse(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ error: reason });
  const text =
    status === 404
      ? 'Not Found'
      : status === 503
        ? 'Service Unavailable'
        : status === 403
          ? 'Forbidden'
          : 'Bad Request';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function createWsGateway(options: WsGatewayOptions): WsGateway {
  const log = options.logger.child({ listener: 'ws' });
  const live = new Map<WebSocket, WsTransport>();
  const perRoute = new Map<WsRoute, number>();
  let accepting = true;
  let nextId = 1;
  const servers = new Map(
    options.routes.map((route) => [
      route,
      new WebSocketServer({
        noServer: true,
        maxPayload: route.maxPayload,
        perMessageDeflate: false,
        // Only reached after chooseRoute accepted the offer, so the first match is the one chosen.
        handleProtocols: (offered) => route.subprotocols.find((p) => offered.has(p)) ?? false,
      }),
    ]),
  );

  const attach = (ws: WebSocket, socket: Duplex, req: IncomingMessage, route: WsRoute) => {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const connLog = log.child({ conn: nextId++, path: route.path });
    const opened = Date.now();
    connLog.info({ remote, subprotocol: ws.protocol }, 'connection open');
    const transport = new WsTransport(ws, socket, remote, {
      ...options.transport,
      messageType: route.messageType,
    });
    live.set(ws, transport);
    perRoute.set(route, (perRoute.get(route) ?? 0) + 1);
    const feed = new SessionFeed(transport, connLog);
    // ws closes the connection itself (1009 over maxPayload, 1002 on a bad frame) and then emits close.
    ws.on('error', (err) => feed.error(err));
    ws.once('close', (code) => {
      live.delete(ws);
      perRoute.set(route, (perRoute.get(route) ?? 1) - 1);
      connLog.info({ remote, code, durationMs: Date.now() - opened }, 'connection closed');
      feed.closed();
    });
    if (!feed.open(route.protocol)) {
      ws.terminate();
      return;
    }
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) =>
      feed.data(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)),
    );
  };

  return {
    get connections() {
      return live.size;
    },
    handleUpgrade(req, socket, head) {
      const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
      const decision = chooseRoute(options.routes, path, req.headers['sec-websocket-protocol']);
      if ('status' in decision) {
        log.info({ path, status: decision.status }, 'upgrade refused');
        refuse(socket, decision.status, decision.reason);
        return;
      }
      const { route } = decision;
      if (options.allowOrigin !== undefined && !options.allowOrigin(req)) {
        const origin = req.headers.origin;
        log.info({ path, origin }, 'upgrade refused: origin not allowed');
        refuse(socket, 403, `origin ${origin} is not allowed (http.cors.allowedOrigins)`);
        return;
      }
      if (!accepting || (perRoute.get(route) ?? 0) >= options.maxConnections) {
        if (accepting) log.warn({ path, maxConnections: options.maxConnections }, 'limit reached');
        refuse(socket, 503, accepting ? 'connection limit reached' : 'broker is stopping');
        return;
      }
      servers.get(route)!.handleUpgrade(req, socket, head, (ws) => attach(ws, socket, req, route));
    },
    stopAccepting() {
      accepting = false;
    },
    async close(timeoutMs = 5000) {
      accepting = false;
      const closing = [...live.keys()].map(
        (ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())),
      );
      for (const t of live.values()) t.end();
      const timer = setTimeout(() => {
        for (const ws of live.keys()) ws.terminate();
      }, timeoutMs);
      await Promise.all(closing);
      clearTimeout(timer);
      for (const server of servers.values()) server.close();
    },
  };
}
