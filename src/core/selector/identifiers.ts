/**
 * What an identifier reads from a Message. JMS 2.0 §3.8.1.1 lets selectors name the header fields
 * JMSDeliveryMode, JMSPriority, JMSMessageID, JMSTimestamp, JMSCorrelationID and JMSType; like ActiveMQ,
 * BlazeMQ also resolves JMSExpiration, JMSReplyTo, JMSDestination and JMSXGroupID. Every other name is an
 * application property, and "if a property that does not exist in a message is referenced, its value is
 * NULL". Per-delivery state (JMSRedelivered, JMSXDeliveryCount) is not on Message, so those names are
 * looked up as ordinary properties.
 */
import type { Message } from '../message.js';
import { normalize, type Value } from './values.js';

export type Accessor = (message: Message) => Value;

/**
 * Own properties only: a selector naming `constructor` or `toString` must not see Object.prototype.
 */
function property(message: Message, name: string): Value {
  const props = message.properties;
  if (typeof props !== 'object' || props === null || !Object.hasOwn(props, name)) return null;
  return normalize(props[name]);
}

const HEADERS: Readonly<Record<string, Accessor>> = {
  JMSPriority: (m) => normalize(m.priority),
  JMSMessageID: (m) => normalize(m.id),
  JMSTimestamp: (m) => normalize(m.timestamp),
  JMSCorrelationID: (m) => normalize(m.correlationId),
  // §3.4.2: the two delivery modes, compared as the strings JMS defines for them.
  JMSDeliveryMode: (m) => (m.persistent ? 'PERSISTENT' : 'NON_PERSISTENT'),
  JMSExpiration: (m) => normalize(m.expiration),
  // JMSType has no field of its own: STOMP (as in ActiveMQ) carries it as the `type` header.
  JMSType: (m) => property(m, 'type') ?? property(m, 'JMSType'),
  JMSXGroupID: (m) => normalize(m.groupId),
  JMSReplyTo: (m) => normalize(m.replyTo),
  JMSDestination: (m) => normalize(m.address),
};

export function accessor(name: string): Accessor {
  if (Object.hasOwn(HEADERS, name)) return HEADERS[name]!;
  return (m) => property(m, name);
}
