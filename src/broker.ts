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
import {
  adminOpenApiPaths,
  createMetrics,
  type ManagementApi,
  managementApi,
  packageVersion,
} from './admin/management/index.js';
import { staticAssets } from './admin/static.js';
import { type BlazeConfig, usersFilePath } from './config/schema.js';
import { type BlazeCore, createBrokerCore } from './core/index.js';
import { type Listener, type ListenOptions, listen } from './net/listener.js';
import { listenTls, type TlsFiles } from './net/tls-listener.js';
import { createWsGateway, type WsGateway, type WsRoute } from './net/ws-transport.js';
import { authenticateRequest } from './protocol/http/auth.js';
import {
  browserScript,
  corsHandler,
  createHttpAuthenticator,
  type HttpMessaging,
  httpMessaging,
  type SseEndpoint,
  sseEndpoint,
  upgradeOriginCheck,
  type V1Api,
  v1Api,
} from './protocol/http/index.js';
import {
  KvSessionStore,
  MQTT_SESSION_NAMESPACE,
  type MqttProtocol,
  mqttProtocol,
} from './protocol/mqtt/index.js';
import {
  NATIVE_STORE_NAMESPACE,
  type NativeProtocol,
  nativeProtocol,
  PRODUCERS_NAMESPACE,
  storeIdentity,
} from './protocol/native/index.js';
import { stompProtocol } from './protocol/stomp/index.js';
import { createAuthenticator } from './security/authenticator.js';
import { createAuthorizer } from './security/authorizer.js';
import { TokenStore } from './security/tokens.js';
import { UserDirectory } from './security/user-directory.js';
import { JournalStore } from './store/journal/index.js';
import { MemoryStore } from './store/memory/index.js';
import { BlazeError } from './util/errors.js';
import { type Logger, silentLogger } from './util/logger.js';

/** Bound port of each listener that is on. */
export interface ListenerPorts {
  stomp?: number;
  mqtt?: number;
  http?: number;
  native?: number;
  nativeTls?: number;
  stompTls?: number;
  mqttTls?: number;
}

export interface RunningBroker {
  /** Bound ports of the listeners that are on. */
  readonly ports: ListenerPorts;
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
  /**
   * A listener that needs no socket (the embedded broker's vm://, src/embedded.ts). It is handed the
   * native protocol factory, which is then built even with every network listener off, so that its
   * connections behave exactly like TCP ones (same limits, authentication and duplicate detection). It
   * stops accepting and is closed together with the network listeners.
   */
  inProcess?: InProcessListener;
}

export interface InProcessListener {
  attach(native: NativeProtocol): void;
  stopAccepting(): void;
  /** Ends every connection (flushing what is queued). */
  close(): Promise<void>;
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
    // Paging (docs/STORAGE.md): recovery reads back the heads of the queues, within half the global
    // memory limit; the core reads the rest when it needs it.
    ...(config.core.globalMemoryLimit > 0 ? { recoverBodyBytes: config.core.globalMemoryLimit / 2 } : {}),
    logger: logger.child({ component: 'journal' }),
  });
}

export async function startBroker(config: BlazeConfig, options: StartOptions = {}): Promise<RunningBroker> {
  const logger = options.logger ?? silentLogger;
  let state: BrokerState = 'starting';
  const started = Date.now();
  const ports: ListenerPorts = {};
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
      ...(config.store.paging ? {} : { paging: false as const }),
      logger: logger.child({ component: 'core' }),
    });
    cleanups.push(() => core.shutdown());

    /** The certificate files of a TLS listener, checked once it is asked for. */
    const tlsFiles = (listener: string): TlsFiles => {
      const { cert, key, ca, clientCertificates } = config.tls;
      if (cert === undefined || key === undefined) {
        throw new BlazeError('CONFIG', `listeners.${listener} needs tls.cert and tls.key (PEM files)`);
      }
      if (clientCertificates === 'none') return { cert, key };
      if (ca === undefined) {
        throw new BlazeError(
          'CONFIG',
          'tls.clientCertificates: require needs tls.ca (PEM file of the client CAs)',
        );
      }
      return { cert, key, clientCa: ca };
    };
    // Every TCP and TLS listener, stopped and closed together at shutdown.
    const listeners: Listener[] = [];
    const TLS_NAMES = { stompTls: 'stomp-tls', mqttTls: 'mqtt-tls', nativeTls: 'native-tls' } as const;
    /** Opens the listener `key` of config.listeners (TLS ones with tls.*) for `protocol`. */
    const open = async (
      key: keyof ListenerPorts & keyof typeof config.listeners,
      port: number,
      protocol: ListenOptions['protocol'],
    ): Promise<void> => {
      const common = {
        host,
        port,
        maxConnections: config.limits.maxConnections,
        transport: { inputTurnBytes: config.limits.inputTurnBytes },
        logger,
        protocol,
      };
      const tlsName = key in TLS_NAMES ? TLS_NAMES[key as keyof typeof TLS_NAMES] : undefined;
      const name = tlsName ?? key;
      const l =
        tlsName === undefined
          ? await listen({ ...common, name })
          : await listenTls({ ...common, name, tls: tlsFiles(key) });
      listeners.push(l);
      cleanups.push(() => l.close());
      ports[key] = l.port;
      logger.info({ protocol: name, host, port: l.port }, 'listening');
    };

    // One factory per protocol, shared by its TCP listener and its WebSocket endpoint.
    const stompFactory = stompProtocol({
      core,
      authenticator,
      limits: config.limits.stomp,
      heartbeat: config.limits.heartbeat,
      logger: logger.child({ protocol: 'stomp' }),
    });
    if (config.listeners.stomp !== 'off') await open('stomp', config.listeners.stomp, stompFactory);
    if (config.listeners.stompTls !== 'off') await open('stompTls', config.listeners.stompTls, stompFactory);

    let mqttFactory: MqttProtocol | undefined;
    let mqttSessionStore: KvSessionStore | undefined;
    // MQTT over WebSocket shares the session registry with the TCP listener, so it needs the same setup.
    if (
      config.listeners.mqtt !== 'off' ||
      config.listeners.mqttTls !== 'off' ||
      config.listeners.http !== 'off'
    ) {
      // Retained messages and persistent sessions are stored with the messages, in the core's store
      // (docs/STORAGE.md), and come back before the listener accepts anyone.
      const mqttLog = logger.child({ protocol: 'mqtt' });
      const sessionStore = new KvSessionStore(core.kv(MQTT_SESSION_NAMESPACE), mqttLog);
      mqttSessionStore = sessionStore;
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
      if (config.listeners.mqtt !== 'off') await open('mqtt', config.listeners.mqtt, protocol);
      if (config.listeners.mqttTls !== 'off') await open('mqttTls', config.listeners.mqttTls, protocol);
    }

    // Native protocol (docs/NATIVE.md): one factory for TCP, TLS and WebSocket, so that duplicate
    // detection (producer sequences, stored with the messages) is shared by every connection.
    let nativeFactory: NativeProtocol | undefined;
    // Bearer tokens are issued by the HTTP endpoint (POST /v1/auth/token); a native Connect may carry one.
    let tokenAuthenticator: ReturnType<typeof createHttpAuthenticator> | undefined;
    const nativeOn = config.listeners.native !== 'off' || config.listeners.nativeTls !== 'off';
    if (nativeOn || config.listeners.http !== 'off' || options.inProcess) {
      nativeFactory = nativeProtocol({
        core,
        authenticator,
        limits: config.limits.native,
        logger: logger.child({ protocol: 'native' }),
        serverName: `blazemq/${packageVersion()}`,
        storeId: storeIdentity(core.kv(NATIVE_STORE_NAMESPACE)),
        producers: core.kv(PRODUCERS_NAMESPACE),
        authenticateToken: (token) =>
          tokenAuthenticator === undefined
            ? Promise.resolve(null)
            : tokenAuthenticator.authenticateHeader(`Bearer ${token}`).catch(() => null),
      });
      const inProcess = options.inProcess;
      if (inProcess) {
        inProcess.attach(nativeFactory);
        cleanups.push(() => inProcess.close());
      }
      if (config.listeners.native !== 'off') await open('native', config.listeners.native, nativeFactory);
      if (config.listeners.nativeTls !== 'off')
        await open('nativeTls', config.listeners.nativeTls, nativeFactory);
    }

    let http: HttpServer | undefined;
    let ws: WsGateway | undefined;
    let rest: HttpMessaging | undefined;
    let sse: SseEndpoint | undefined;
    let v1: V1Api | undefined;
    let adminApi: ManagementApi | undefined;
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
      if (nativeFactory) {
        routes.push({
          path: '/native',
          subprotocols: ['blazemq.v1'],
          protocol: nativeFactory,
          // A WebSocket message carries whole length-prefixed frames, possibly several (docs/NATIVE.md).
          maxPayload: 2 * (config.limits.native.maxFrameSize + 4),
          messageType: 'binary',
        });
      }
      const gateway = createWsGateway({
        routes,
        maxConnections: config.limits.maxConnections,
        transport: { inputTurnBytes: config.limits.inputTurnBytes },
        logger: httpLog,
        allowOrigin: upgradeOriginCheck(config.http.cors),
      });
      ws = gateway;
      cleanups.push(() => gateway.close());
      // Every HTTP endpoint: Basic (with a credential cache) or bearer tokens (protocol/http/auth.ts).
      const httpAuthenticator = createHttpAuthenticator(authenticator, {
        tokens: new TokenStore({
          ttlMs: config.limits.http.tokenTtlMs,
          maxTokens: config.limits.http.maxTokens,
        }),
        credentialCacheTtlMs: config.limits.http.credentialCacheTtlMs,
        credentialCacheSize: config.limits.http.credentialCacheSize,
      });
      tokenAuthenticator = httpAuthenticator;
      const messaging = httpMessaging({
        core,
        authenticator: httpAuthenticator,
        limits: config.limits.http,
        logger: logger.child({ protocol: 'http' }),
      });
      rest = messaging;
      cleanups.push(async () => messaging.close());
      const streams = sseEndpoint({
        core,
        authenticator: httpAuthenticator,
        limits: config.limits.http,
        logger: logger.child({ protocol: 'sse' }),
      });
      sse = streams;
      cleanups.push(async () => streams.close());
      const api = v1Api({
        core,
        authenticator: httpAuthenticator,
        limits: config.limits.http,
        logger: logger.child({ protocol: 'http-v1' }),
        extraOpenApiPaths: () => adminOpenApiPaths,
        version: packageVersion(),
      });
      v1 = api;
      cleanups.push(async () => api.close());
      // Management API and /metrics (admin/management); before the static assets, which own `/`.
      const management = managementApi({
        core,
        authenticate: (req) => authenticateRequest(httpAuthenticator, req),
        logger: logger.child({ component: 'management' }),
        version: packageVersion(),
        startedAt: started,
        metrics: createMetrics({
          core,
          ...(store instanceof JournalStore ? { storeStats: () => store.stats() } : {}),
        }),
      });
      adminApi = management;
      cleanups.push(async () => management.close());
      // Health must be reachable by an orchestrator on another host, so HTTP follows the same rule.
      http = await startHttpServer({
        host,
        port: config.listeners.http,
        logger: httpLog,
        // The web assets own `/`, so they come last (admin/static.ts).
        handlers: [
          // First: it answers preflights and refuses cross-site unsafe requests before anything runs.
          corsHandler(config.http.cors),
          messaging.handle,
          streams.handle,
          api.handle,
          browserScript(),
          management.handle,
          staticAssets({ logger: httpLog }),
        ],
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
      for (const l of listeners) l.stopAccepting();
      options.inProcess?.stopAccepting();
      ws?.stopAccepting();
      // Messages held by /v1 receive leases go back to their queues while the core can still record it.
      v1?.close();
      // QoS 1 outbound records still deferred (kv-session-store.ts): a clean stop keeps their packet ids.
      mqttSessionStore?.flushDeferred();
      try {
        await core.shutdown();
      } catch (err) {
        logger.error({ err }, 'core shutdown failed');
      }
      for (const l of listeners) await l.close();
      await options.inProcess?.close();
      await ws?.close();
      rest?.close();
      sse?.close();
      adminApi?.close();
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
