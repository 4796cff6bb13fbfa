/**
 * A runnable broker assembled from its parts: store -> core -> security -> protocol listeners -> HTTP.
 * Used by `blazemq start` and by applications embedding a broker.
 *
 * Security rule: with no users configured anyone may do anything, so the broker then binds to loopback
 * only, whatever host was asked for, and says so in a warning. With users it binds to `config.host` and
 * every connection must authenticate.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type BrokerState, type HttpServer, startHttpServer } from './admin/http.js';
import { type BlazeConfig, usersFilePath } from './config/schema.js';
import { type BlazeCore, createBrokerCore } from './core/index.js';
import { type Listener, listen } from './net/listener.js';
import { createWsGateway, type WsGateway, type WsRoute } from './net/ws-transport.js';
import { type HttpMessaging, httpMessaging, type SseEndpoint, sseEndpoint } from './protocol/http/index.js';
import {
  KvSessionStore,
  MQTT_SESSION_NAMESPACE,
  type MqttProtocol,
  mqttProtocol,
} from './protocol/mqtt/index.js';
import { stompProtocol } from './protocol/stomp/index.js';
import { createAuthenticator } from './security/authenticator.js';
import { createAuthorizer } from './security/authorizer.js';
import { UserDirectory } from './security/user-directory.js';
import { JournalStore } from './store/journal/index.js';
import { MemoryStore } from './store/memory/index.js';
import { type Logger, silentLogger } from './util/logger.js';

export interface RunningBroker {
  /** Bound ports of the listeners that are on. */
  readonly ports: { stomp?: number; mqtt?: number; http?: number };
  /** Address the protocol listeners are bound to (after the loopback rule). */
  readonly host: string;
  readonly core: BlazeCore;
  /**
   * Stops accepting connections, lets the core finish in-flight work (persistent sends become durable
   * and their receipts are written), ends client connections cleanly, then closes the HTTP endpoint.
   * Idempotent.
   */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
}

const LOOPBACK = '127.0.0.1';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The journal under `<dataDir>/journal` (durable), or the memory store when configured (nothing survives
 * a restart). A damaged journal makes start-up fail with a STORE error (see docs/STORAGE.md).
 */
function createStore(config: BlazeConfig, logger: Logger): JournalStore | MemoryStore {
  if (config.store.type === 'memory') {
    logger.warn('store type "memory": persistent messages do not survive a restart');
    return new MemoryStore();
  }
  return new JournalStore({
    dir: join(config.dataDir, 'journal'),
    segmentSize: config.store.segmentSize,
    preallocate: config.store.preallocate,
    logger: logger.child({ component: 'journal' }),
  });
}

export async function startBroker(config: BlazeConfig, options: StartOptions = {}): Promise<RunningBroker> {
  const logger = options.logger ?? silentLogger;
  let state: BrokerState = 'starting';
  const started = Date.now();
  const ports: { stomp?: number; mqtt?: number; http?: number } = {};
  // Everything opened so far, closed in reverse if a later step fails.
  const cleanups: Array<() => Promise<void>> = [];
  const unwind = async () => {
    for (const c of cleanups.reverse()) await c().catch((err) => logger.warn({ err }, 'cleanup failed'));
  };

  try {
    await mkdir(config.dataDir, { recursive: true });
    const directory = await UserDirectory.open(usersFilePath(config), logger.child({ component: 'users' }));
    let host = config.host;
    if (directory.size === 0) {
      if (!isLoopback(host)) host = LOOPBACK;
      logger.warn(
        { requestedHost: config.host, host, usersFile: directory.file },
        `no users configured: authentication is off and the broker listens on ${host} only; ` +
          'add a user with `blazemq user add NAME` to accept remote connections',
      );
    } else {
      logger.info({ users: directory.size, host }, 'authentication required');
    }

    const authenticator = createAuthenticator(directory);
    const authorizer = createAuthorizer(config.security.acl, directory);
    const store = createStore(config, logger);
    cleanups.push(() => store.close());
    const core = await createBrokerCore({
      store,
      authorizer,
      policy: config.core,
      logger: logger.child({ component: 'core' }),
    });
    cleanups.push(() => core.shutdown());

    // One factory per protocol, shared by its TCP listener and its WebSocket endpoint.
    const stompFactory = stompProtocol({
      core,
      authenticator,
      limits: config.limits.stomp,
      heartbeat: config.limits.heartbeat,
      logger: logger.child({ protocol: 'stomp' }),
    });
    let stomp: Listener | undefined;
    if (config.listeners.stomp !== 'off') {
      stomp = await listen({
        name: 'stomp',
        host,
        port: config.listeners.stomp,
        maxConnections: config.limits.maxConnections,
        logger,
        protocol: stompFactory,
      });
      const l = stomp;
      cleanups.push(() => l.close());
      ports.stomp = stomp.port;
      logger.info({ protocol: 'stomp', host, port: stomp.port }, 'listening');
    }

    let mqtt: Listener | undefined;
    let mqttFactory: MqttProtocol | undefined;
    // MQTT over WebSocket shares the session registry with the TCP listener, so it needs the same setup.
    if (config.listeners.mqtt !== 'off' || config.listeners.http !== 'off') {
      // Retained messages and persistent sessions are stored with the messages, in the core's store
      // (docs/STORAGE.md), and come back before the listener accepts anyone.
      const mqttLog = logger.child({ protocol: 'mqtt' });
      const sessionStore = new KvSessionStore(core.kv(MQTT_SESSION_NAMESPACE), mqttLog);
      const protocol = mqttProtocol({
        core,
        authenticator,
        retained: core.retained,
        sessionStore,
        limits: config.limits.mqtt,
        logger: mqttLog,
      });
      const sessions = await sessionStore.load();
      protocol.settings.registry.restore(sessions);
      if (sessions.length > 0 || core.retained.size > 0) {
        mqttLog.info({ sessions: sessions.length, retained: core.retained.size }, 'MQTT state recovered');
      }
      mqttFactory = protocol;
      cleanups.push(async () => protocol.settings.registry.close());
      if (config.listeners.mqtt !== 'off') {
        mqtt = await listen({
          name: 'mqtt',
          host,
          port: config.listeners.mqtt,
          maxConnections: config.limits.maxConnections,
          logger,
          protocol,
        });
        const l = mqtt;
        cleanups.push(() => l.close());
        ports.mqtt = mqtt.port;
        logger.info({ protocol: 'mqtt', host, port: mqtt.port }, 'listening');
      }
    }

    let http: HttpServer | undefined;
    let ws: WsGateway | undefined;
    let rest: HttpMessaging | undefined;
    let sse: SseEndpoint | undefined;
    if (config.listeners.http !== 'off') {
      const httpLog = logger.child({ component: 'http' });
      const routes: WsRoute[] = [
        {
          path: '/stomp',
          subprotocols: ['v12.stomp', 'v11.stomp', 'v10.stomp'],
          protocol: stompFactory,
          maxPayload: config.limits.stomp.maxFrameSize,
          messageType: 'auto',
        },
      ];
      if (mqttFactory) {
        routes.push({
          path: '/mqtt',
          // 'mqttv3.1' is what MQTT 3.1 clients offer (MQTT.js with protocolVersion 3).
          subprotocols: ['mqtt', 'mqttv3.1'],
          protocol: mqttFactory,
          maxPayload: config.limits.mqtt.maxPacketSize,
          messageType: 'binary',
        });
      }
      const gateway = createWsGateway({
        routes,
        maxConnections: config.limits.maxConnections,
        logger: httpLog,
      });
      ws = gateway;
      cleanups.push(() => gateway.close());
      const messaging = httpMessaging({
        core,
        authenticator,
        limits: config.limits.http,
        logger: logger.child({ protocol: 'http' }),
      });
      rest = messaging;
      cleanups.push(async () => messaging.close());
      const streams = sseEndpoint({
        core,
        authenticator,
        limits: config.limits.http,
        logger: logger.child({ protocol: 'sse' }),
      });
      sse = streams;
      cleanups.push(async () => streams.close());
      // Health must be reachable by an orchestrator on another host, so HTTP follows the same rule.
      http = await startHttpServer({
        host,
        port: config.listeners.http,
        logger: httpLog,
        handlers: [messaging.handle, streams.handle],
        upgrade: gateway.handleUpgrade,
        // A long poll may wait maxReadTimeoutMs after its request arrived.
        requestTimeoutMs: Math.max(30_000, config.limits.http.maxReadTimeoutMs + 10_000),
        health: () => ({
          state,
          details: {
            uptimeSeconds: Math.floor((Date.now() - started) / 1000),
            listeners: ports,
            ...(store instanceof JournalStore ? { store: store.stats() } : {}),
          },
        }),
      });
      const h = http;
      cleanups.push(() => h.close());
      ports.http = http.port;
      logger.info({ protocol: 'http', host, port: http.port }, 'listening');
    }

    state = 'ready';
    let stopping: Promise<void> | undefined;
    const stop = async () => {
      state = 'stopping';
      logger.info('stopping');
      stomp?.stopAccepting();
      mqtt?.stopAccepting();
      ws?.stopAccepting();
      try {
        await core.shutdown();
      } catch (err) {
        logger.error({ err }, 'core shutdown failed');
      }
      await stomp?.close();
      await mqtt?.close();
      await ws?.close();
      rest?.close();
      sse?.close();
      await store.close();
      await http?.close();
      logger.info('stopped');
    };
    return {
      ports,
      host,
      core,
      stop: () => {
        stopping ??= stop();
        return stopping;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
