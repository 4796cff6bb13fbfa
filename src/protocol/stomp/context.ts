/**
 * What a STOMP session needs from the broker, and its tunables with defaults.
 */
import type { Authenticator, BrokerCore } from '../../core/api.js';
import { type Logger, silentLogger } from '../../util/logger.js';
import { systemTimers, type Timers } from '../../util/timers.js';
import { DEFAULT_STOMP_LIMITS, type StompLimits } from './codec/limits.js';

export interface StompSessionLimits extends StompLimits {
  /** Subscriptions open at once on one connection. */
  maxSubscriptions: number;
  /** Open transactions on one connection. */
  maxTransactions: number;
  /** Temporary destinations created by one connection. */
  maxTemporaries: number;
  /**
   * Operations awaiting the core (persistent SENDs before the store has them, COMMITs, queued receipts).
   * At this many the session stops reading the socket: this is how a STOMP producer gets flow control.
   * Reading resumes when half of them have completed.
   */
  maxInflight: number;
  /** `activemq.prefetchSize` default for client / client-individual subscriptions. */
  defaultPrefetch: number;
  /** In-flight window for `ack:auto` subscriptions; transport back-pressure bounds them first. */
  autoPrefetch: number;
  /** A peer that leaves our output undrained this long is sent ERROR and dropped. */
  slowConsumerTimeoutMs: number;
}

export const DEFAULT_SESSION_LIMITS: Readonly<StompSessionLimits> = Object.freeze({
  ...DEFAULT_STOMP_LIMITS,
  maxSubscriptions: 1000,
  maxTransactions: 1000,
  maxTemporaries: 1000,
  maxInflight: 1000,
  defaultPrefetch: 1000,
  autoPrefetch: 10_000,
  slowConsumerTimeoutMs: 30_000,
});

/** Our side of heart-beat negotiation (1.2 "Heart-beating"): the `sx,sy` the server offers. */
export interface StompHeartbeatSettings {
  /** sx: the smallest interval at which we can send heart-beats; 0 = we cannot. */
  sendMs: number;
  /** sy: the interval at which we want to hear from the client; 0 = we do not. */
  receiveMs: number;
  /** A client silent for more than its negotiated interval x this is considered dead. */
  graceFactor: number;
}

export const DEFAULT_HEARTBEAT: Readonly<StompHeartbeatSettings> = Object.freeze({
  sendMs: 10_000,
  receiveMs: 10_000,
  graceFactor: 2,
});

/** Clock and timers, injectable for tests (src/util/timers.ts). */
export type StompTimers = Timers;
export { systemTimers };

export interface StompContext {
  core: BrokerCore;
  authenticator: Authenticator;
  limits?: Partial<StompSessionLimits>;
  heartbeat?: Partial<StompHeartbeatSettings>;
  logger?: Logger;
  /** `server` header of CONNECTED. */
  serverName?: string;
  timers?: StompTimers;
}

export interface ResolvedStompContext {
  readonly core: BrokerCore;
  readonly authenticator: Authenticator;
  readonly limits: Readonly<StompSessionLimits>;
  readonly heartbeat: Readonly<StompHeartbeatSettings>;
  readonly logger: Logger;
  readonly serverName: string;
  readonly timers: StompTimers;
}

export function resolveContext(ctx: StompContext): ResolvedStompContext {
  return {
    core: ctx.core,
    authenticator: ctx.authenticator,
    limits: { ...DEFAULT_SESSION_LIMITS, ...ctx.limits },
    heartbeat: { ...DEFAULT_HEARTBEAT, ...ctx.heartbeat },
    logger: ctx.logger ?? silentLogger,
    serverName: ctx.serverName ?? 'BlazeMQ',
    timers: ctx.timers ?? systemTimers,
  };
}
