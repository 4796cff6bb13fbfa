/**
 * The protocol-neutral broker core: the public entry of src/core. Protocol sessions use the
 * CoreConnection API (api.ts); everything not exported here is internal.
 */
import { type BlazeCore, Broker, type BrokerCoreOptions } from './broker.js';

export {
  type Address,
  type AddressKind,
  formatAddress,
  isTemporaryKind,
  isTopicKind,
  parseAddress,
  parseSendAddress,
} from './address.js';
export type {
  BrowsedMessage,
  BrowseOptions,
  CoreAdmin,
  CoreTotals,
  QueueInfo,
  SubscriptionInfo,
  TopicInfo,
} from './admin.js';
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
  Xid,
} from './api.js';
export type {
  BlazeCore,
  BrokerCoreOptions,
  ConnectionStats,
  CoreStats,
  DurableStats,
  MemoryStats,
  TopicStats,
} from './broker.js';
export type { KeyValueNamespace } from './kv.js';
export { MESSAGE_OVERHEAD } from './memory.js';
export type { Message, MessageInit, PropertyValue } from './message.js';
export { DEFAULT_PRIORITY } from './message.js';
export {
  type CorePolicy,
  DEFAULT_POLICY,
  type DestinationPolicy,
  type ExpiredMessagePolicy,
  type PolicyOverride,
  SLOW_CONSUMER_POLICIES,
  type SlowConsumerPolicy,
} from './policy.js';
export type { QueueStats } from './queue.js';
export {
  DEFAULT_MAX_RETAINED,
  type RetainedOp,
  type RetainedOptions,
  type RetainedPersistence,
  RetainedStore,
} from './retained.js';
export {
  type Clock,
  ManualScheduler,
  type Scheduler,
  systemClock,
  systemScheduler,
  type TimerHandle,
} from './scheduler.js';
export type { SelectorPredicate } from './selector/index.js';
export type {
  DurableRecord,
  KvEntry,
  MessageStore,
  PreparedBranch,
  RecoveredMessage,
  RecoveredQueue,
  RecoveredState,
  StoreOp,
} from './store.js';
export { ACCEPTED } from './store-writer.js';
export { matchPattern } from './wildcard.js';
export { checkXid, MAX_XID_PART, XA_FLAGS, xidKey } from './xa.js';

/**
 * Creates a core and, when a store is given, recovers its queues, messages and durable subscriptions
 * before resolving (hence async). Throws CONFIG for invalid policies.
 */
export async function createBrokerCore(options: BrokerCoreOptions = {}): Promise<BlazeCore> {
  const broker = new Broker(options);
  if (options.store !== undefined) {
    try {
      broker.recover(await options.store.load());
    } catch (err) {
      await broker.shutdown();
      throw err;
    }
  }
  return broker;
}
