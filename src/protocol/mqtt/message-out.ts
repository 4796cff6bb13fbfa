/**
 * Core Message -> MQTT 5 PUBLISH properties (the inverse of message-in.ts). MQTT 3.1.x PUBLISH has no
 * properties: only topic, payload, QoS and RETAIN reach those clients.
 */
import type { Message } from '../../core/message.js';
import type { ProtocolVersion } from './codec/decoder.js';
import { encodePublish, type PublishProperties } from './codec/encoder.js';
import { PROP_CORRELATION_BINARY, PROP_UTF8, RESERVED_PROPERTIES } from './message-in.js';
import { addressTopic } from './topics.js';

/**
 * Properties for delivering `m` at time `now`; undefined when there are none. The Message Expiry
 * Interval sent is what is left of it [MQTT-3.3.2-6].
 */
export function publishProperties(
  m: Message,
  now: number,
  subscriptionIds: readonly number[] | undefined,
): PublishProperties | undefined {
  if (
    subscriptionIds === undefined &&
    m.expiration === 0 &&
    m.contentType === undefined &&
    m.replyTo === undefined &&
    m.correlationId === undefined &&
    !hasUserOrFormat(m.properties)
  ) {
    return undefined;
  }
  const p: PublishProperties = {};
  let any = false;
  if (m.expiration !== 0) {
    p.messageExpiryInterval = Math.max(1, Math.ceil((m.expiration - now) / 1000));
    any = true;
  }
  if (m.contentType !== undefined) {
    p.contentType = m.contentType;
    any = true;
  }
  if (m.replyTo !== undefined) {
    const topic = addressTopic(m.replyTo);
    if (topic !== undefined) {
      p.responseTopic = topic;
      any = true;
    }
  }
  const props = m.properties;
  if (m.correlationId !== undefined) {
    const binary = props[PROP_CORRELATION_BINARY] === true;
    p.correlationData = Buffer.from(m.correlationId, binary ? 'base64' : 'utf8');
    any = true;
  }
  if (props[PROP_UTF8] === true) {
    p.payloadFormatIndicator = true;
    any = true;
  }
  let user: Array<[string, string]> | undefined;
  for (const name in props) {
    if (RESERVED_PROPERTIES.has(name)) continue;
    const v = props[name];
    user ??= [];
    user.push([name, v === null ? '' : String(v)]);
  }
  if (user !== undefined) {
    p.userProperties = user;
    any = true;
  }
  if (subscriptionIds !== undefined) {
    p.subscriptionIdentifiers = subscriptionIds;
    any = true;
  }
  return any ? p : undefined;
}

function hasUserOrFormat(props: Message['properties']): boolean {
  for (const name in props) {
    if (name === PROP_UTF8 || !RESERVED_PROPERTIES.has(name)) return true;
  }
  return false;
}

/**
 * The QoS 0 PUBLISH of `message` for every subscriber of one protocol flavour (3.1.x or 5.0) that needs
 * nothing of its own in it (no Subscription Identifier, no Topic Alias, no properties): encoded once and
 * the same bytes written to each session. The core hands one message to all its subscribers in a row,
 * so one entry per flavour and RETAIN flag catches a fan-out; the entry pins one message until the next.
 */
interface SharedEntry {
  message: Message | null;
  retain: boolean;
  bytes: Buffer;
}
const shared: [SharedEntry, SharedEntry] = [
  { message: null, retain: false, bytes: Buffer.alloc(0) },
  { message: null, retain: false, bytes: Buffer.alloc(0) },
];

export function sharedQos0Publish(message: Message, retain: boolean, version: ProtocolVersion): Buffer {
  const entry = shared[version === 5 ? 1 : 0];
  if (entry.message === message && entry.retain === retain) return entry.bytes;
  const topic = addressTopic(message.address) ?? message.address;
  const bytes = encodePublish(
    { topic, qos: 0, packetId: 0, dup: false, retain, payload: message.body },
    version,
  );
  entry.message = message;
  entry.retain = retain;
  entry.bytes = bytes;
  return bytes;
}
