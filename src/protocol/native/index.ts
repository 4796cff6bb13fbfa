/**
 * The native protobuf protocol (proto/blaze/v1/native.proto) for BlazeMQ. `nativeProtocol(ctx)` is what
 * a listener (TCP, TLS, WebSocket `/native`) calls per accepted connection; every connection of one
 * factory shares the settings and the duplicate-detection registry.
 */
import type { ProtocolFactory } from '../../net/transport.js';
import { silentLogger } from '../../util/logger.js';
import { systemTimers } from '../../util/timers.js';
import { DEFAULT_NATIVE_LIMITS, type NativeContext, type ResolvedNativeContext } from './context.js';
import { ProducerRegistry } from './producers.js';
import { NativeSession } from './session.js';

export function resolveNativeContext(ctx: NativeContext): ResolvedNativeContext {
  return {
    core: ctx.core,
    authenticator: ctx.authenticator,
    limits: { ...DEFAULT_NATIVE_LIMITS, ...ctx.limits },
    logger: ctx.logger ?? silentLogger,
    timers: ctx.timers ?? systemTimers,
    serverName: ctx.serverName ?? 'blazemq',
    storeId: ctx.storeId ?? '',
    authenticateToken: ctx.authenticateToken,
  };
}

export interface NativeProtocol extends ProtocolFactory {
  readonly settings: ResolvedNativeContext;
  readonly producers: ProducerRegistry;
}

export function nativeProtocol(ctx: NativeContext): NativeProtocol {
  const settings = resolveNativeContext(ctx);
  const producers = new ProducerRegistry(
    ctx.producers,
    settings.timers,
    settings.limits.maxProducers,
    settings.limits.producerIdleMs,
  );
  const factory = (transport: Parameters<ProtocolFactory>[0]) =>
    new NativeSession(transport, settings, producers);
  return Object.assign(factory, { settings, producers });
}

export * from './codec/index.js';
export {
  DEFAULT_NATIVE_LIMITS,
  type NativeContext,
  type NativeLimits,
  PRODUCERS_NAMESPACE,
  type ResolvedNativeContext,
} from './context.js';
export { ProducerRegistry } from './producers.js';
export {
  MIN_PROTOCOL_VERSION,
  NativeSession,
  negotiateVersion,
  PROTOCOL_VERSION,
} from './session.js';
export { NATIVE_STORE_NAMESPACE, storeIdentity } from './store-identity.js';
