/** The JMS-style layer of `blazemq/client` (names and semantics from JMS 1.1/2.0 where they fit). */

export {
  Connection,
  ConnectionFactory,
  type ConnectionFactoryOptions,
  type ExceptionListener,
  type TransportListener,
} from './connection.js';
export { type AcknowledgeMode, DeliveryMode, type DeliveryModeValue, Session } from './constants.js';
export { MessageConsumer, type MessageListener, QueueBrowser } from './consumer.js';
export { Destination, Queue, TemporaryQueue, TemporaryTopic, Topic } from './destination.js';
export { BytesMessage, JmsMessage, TextMessage } from './message.js';
export { MessageProducer } from './producer.js';
export { JmsSession } from './session.js';
