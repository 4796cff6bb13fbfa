/**
 * What an MQTT session needs from the broker, and its tunables with defaults.
 */
import type { Authenticator, BrokerCore } from '../../core/api.js';
import type { RetainedStore } from '../../core/retained.js';
import { type Logger, silentLogger } from '../../util/logger.js';
import { systemTimers, type Timers } from '../../util/timers.js';
import { SessionRegistry } from './registry.js';
import { MEMORY_SESSION_STORE, type MqttSessionStore } from './state.js';

export interface MqttLimits {
  /** Largest packet accepted, fixed header included; announced as Maximum Packet Size (MQTT 5). */
  maxPacketSize: number;
  /**
   * QoS 1/2 PUBLISHes from one client not yet acknowledged: announced as Receive Maximum (MQTT 5; a
   * client over it is disconnected with 0x93). For 3.1.1 clients the session stops reading instead.
   */
  receiveMaximum: number;
  /** QoS 1/2 deliveries outstanding to a 3.1.x client (5.0 clients set theirs with Receive Maximum). */
  maxInflightOut: number;
  /** Topic aliases a client may define (MQTT 5 Topic Alias Maximum); 0 disables them. */
  topicAliasMaximum: number;
  /** Topic aliases we assign when sending to a client that allows them (at most what it allows). */
  outgoingTopicAliases: number;
  /** Subscriptions per session. */
  maxSubscriptions: number;
  maxClientIdLength: number;
  /** Cap on the session expiry interval, seconds; a 3.1.x `clean session: false` gets this. */
  maxSessionExpiry: number;
  /** Keep-alive the server imposes when a client asks for more (or none): MQTT 5 Server Keep Alive. */
  maxKeepAlive: number;
  /** Granted at most (MQTT 5 Maximum QoS). */
  maximumQoS: 0 | 1 | 2;
  /** In-flight window for QoS 0 subscriptions (bounded first by transport back-pressure). */
  autoPrefetch: number;
  /** A peer that leaves our output undrained this long is dropped. */
  slowConsumerTimeoutMs: number;
}

export const DEFAULT_MQTT_LIMITS: Readonly<MqttLimits> = Object.freeze({
  maxPacketSize: 16 * 1024 * 1024,
  receiveMaximum: 1000,
  maxInflightOut: 1000,
  topicAliasMaximum: 100,
  outgoingTopicAliases: 100,
  maxSubscriptions: 1000,
  maxClientIdLength: 256,
  maxSessionExpiry: 7 * 24 * 3600,
  maxKeepAlive: 65_535,
  maximumQoS: 2,
  autoPrefetch: 10_000,
  slowConsumerTimeoutMs: 30_000,
});

/** Clock and timers, injectable for tests (src/util/timers.ts). */
export type MqttTimers = Timers;
export { systemTimers };

export interface MqttContext {
  core: BrokerCore;
  authenticator: Authenticator;
  /** Retained messages; without one, retained PUBLISHes are routed but not kept. */
  retained?: RetainedStore;
  /** Where persistent sessions are recorded; in memory by default. */
  sessionStore?: MqttSessionStore;
  limits?: Partial<MqttLimits>;
  logger?: Logger;
  timers?: MqttTimers;
}

export interface ResolvedMqttContext {
  readonly core: BrokerCore;
  readonly authenticator: Authenticator;
  readonly retained: RetainedStore | undefined;
  readonly limits: Readonly<MqttLimits>;
  readonly logger: Logger;
  readonly timers: MqttTimers;
  /** Live and offline sessions by client id, shared by every connection of one listener set. */
  readonly registry: SessionRegistry;
}

export function resolveContext(ctx: MqttContext): ResolvedMqttContext {
  const limits = { ...DEFAULT_MQTT_LIMITS, ...ctx.limits };
  const logger = ctx.logger ?? silentLogger;
  const timers = ctx.timers ?? systemTimers;
  return {
    core: ctx.core,
    authenticator: ctx.authenticator,
    retained: ctx.retained,
    limits,
    logger,
    timers,
    registry: new SessionRegistry({
      core: ctx.core,
      store: ctx.sessionStore ?? MEMORY_SESSION_STORE,
      retained: ctx.retained,
      timers,
      logger,
    }),
  };
}
