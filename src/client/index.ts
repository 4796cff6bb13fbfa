/**
 * `blazemq/client`: the native-protocol client, the same code in Node (tcp://, tls://, ws://) and
 * browsers (ws://, wss://), plus an in-process vm:// transport. The bespoke API is `connect()` and what
 * BlazeClient offers; the JMS-style layer (ConnectionFactory, Session...) is built on it. docs/CLIENT.md.
 */
export {
  type BatchEntry,
  BlazeClient,
  type ClientEvents,
  type ConnectionInfo,
  type ConnectOptions,
  connect,
} from './client.js';
export { ClientCodes, ClientError, isClientError } from './codec/errors.js';
export * from './jms/index.js';
export type { Body, PropertyValue, PublishOptions, ReceivedMessage } from './message.js';
export type { RequestOptions } from './request-reply.js';
export type {
  AckMode,
  Message,
  ReceiveOptions,
  SubscribeOptions,
  Subscription,
} from './subscription.js';
export * from './tm/index.js';
export type { Transaction } from './transaction.js';
export type { ClientTransport, TransportFactory, TransportHandlers } from './transport/types.js';
export { type Endpoint, parseUrl, type ReconnectOptions } from './url.js';
export { registerVmBroker, type VmBroker, type VmConnection } from './vm-registry.js';
export { XA_FLAGS, XaResource, type Xid } from './xa.js';
