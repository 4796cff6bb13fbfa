/**
 * `blazemq`: run a broker from code (`startBroker(await loadConfig())`), or embed the protocol-neutral
 * core. Everything not exported here is internal.
 */
export { type RunningBroker, type StartOptions, startBroker } from './broker.js';
// vm:// for an embedded broker: it registers itself here and `blazemq/client` finds it (docs/CLIENT.md#vm).
export { registerVmBroker, type VmBroker, type VmConnection } from './client/vm-registry.js';
export {
  type AclRule,
  type BlazeConfig,
  type CoreConfig,
  defaultConfig,
  type FlagOverrides,
  type HeartbeatConfig,
  type LimitsConfig,
  type ListenersConfig,
  type LogLevel,
  loadConfig,
  loadConfigFile,
  type PortSetting,
  parseConfig,
  type SecurityConfig,
} from './config/index.js';
export type {
  AckMode,
  Authenticator,
  Authorizer,
  BrokerCore,
  ConnectOptions,
  CoreConnection,
  Delivery,
  DeliverySink,
  Permission,
  Principal,
  SubscribeOptions,
  Subscription,
} from './core/api.js';
export { type BlazeCore, type BrokerCoreOptions, createBrokerCore, type MessageStore } from './core/index.js';
export { DEFAULT_PRIORITY, type Message, type MessageInit, type PropertyValue } from './core/message.js';
export {
  Broker,
  type BrokerConfigInput,
  type BrokerOptions,
  type ListenerName,
} from './embedded.js';
export { BlazeError, type ErrorCode, isBlazeError } from './util/errors.js';
export { type Logger, silentLogger } from './util/logger.js';
