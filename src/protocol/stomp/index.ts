/**
 * STOMP 1.0 / 1.1 / 1.2 for BlazeMQ. `stompProtocol(ctx)` is what a listener (TCP, TLS, WebSocket) calls
 * per accepted connection; the codec is exported for tools and tests.
 */
import type { ProtocolFactory, ProtocolSession, Transport } from '../../net/transport.js';
import { resolveContext, type StompContext } from './context.js';
import { StompSession } from './session.js';

export function createStompSession(transport: Transport, ctx: StompContext): ProtocolSession {
  return new StompSession(transport, resolveContext(ctx));
}

/** Resolves the settings once; every connection shares them. */
export function stompProtocol(ctx: StompContext): ProtocolFactory {
  const settings = resolveContext(ctx);
  return (transport) => new StompSession(transport, settings);
}

export * from './codec/index.js';
export {
  DEFAULT_HEARTBEAT,
  DEFAULT_SESSION_LIMITS,
  type StompContext,
  type StompHeartbeatSettings,
  type StompSessionLimits,
  type StompTimers,
  systemTimers,
} from './context.js';
export { DestinationMapper } from './destinations.js';
export { StompSession } from './session.js';
