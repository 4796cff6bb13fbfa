/**
 * MQTT 3.1, 3.1.1 and 5.0 for BlazeMQ. `mqttProtocol(ctx)` is what a listener (TCP, TLS, WebSocket)
 * calls per accepted connection; every connection of one factory shares the session registry (session
 * takeover, persistent sessions, delayed Wills).
 */
import type { ProtocolFactory, ProtocolSession, Transport } from '../../net/transport.js';
import { type MqttContext, type ResolvedMqttContext, resolveContext } from './context.js';
import { MqttSession } from './session.js';

export interface MqttProtocol extends ProtocolFactory {
  /** Shared state of the factory's sessions. */
  readonly settings: ResolvedMqttContext;
}

/** Resolves the settings once; every connection shares them (and the session registry). */
export function mqttProtocol(ctx: MqttContext): MqttProtocol {
  const settings = resolveContext(ctx);
  const factory = (transport: Transport): ProtocolSession => new MqttSession(transport, settings);
  return Object.assign(factory, { settings });
}

export { MqttDecoder, type ProtocolVersion } from './codec/decoder.js';
export { encodeAck, encodePublish, type OutgoingPublish, type PublishProperties } from './codec/encoder.js';
export {
  DEFAULT_MQTT_LIMITS,
  type MqttContext,
  type MqttLimits,
  type MqttTimers,
  systemTimers,
} from './context.js';
export { KvSessionStore, MQTT_SESSION_NAMESPACE } from './persistence/kv-session-store.js';
export { MqttError, RC } from './reason-codes.js';
export { SessionRegistry } from './registry.js';
export { MqttSession } from './session.js';
export {
  MEMORY_SESSION_STORE,
  type MqttSessionStore,
  type SessionOp,
  type StoredSession,
} from './state.js';
export { addressTopic, filterToPattern, nameToTopic, topicAddress, topicToName } from './topics.js';
