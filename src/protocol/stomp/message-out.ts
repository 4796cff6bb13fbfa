/**
 * Delivery -> MESSAGE frame header block, the hot path: one string built by concatenation (V8 ropes),
 * escaping only values that need it, then written with the body into a slab by FrameAllocator.
 *
 * Order: subscription, message-id, destination, ack (1.2, explicit-ack subscriptions), redelivered,
 * persistent, priority, expires, timestamp, correlation-id, reply-to, JMSXGroupID, content-type,
 * content-length, then application properties. A property named like one of these is skipped: the
 * decoder on the other side would keep the first anyway (1.2 "Repeated Header Entries").
 */
import type { Delivery } from '../../core/api.js';
import { escapeHeader, escapeHeaderName } from './codec/escape.js';
import type { StompVersion } from './codec/frame.js';

const RESERVED = new Set([
  'subscription',
  'message-id',
  'destination',
  'ack',
  'redelivered',
  'persistent',
  'priority',
  'expires',
  'timestamp',
  'correlation-id',
  'reply-to',
  'JMSXGroupID',
  'content-type',
  'content-length',
]);

/**
 * `prefix` is `MESSAGE\nsubscription:<id>\n`, precomputed per subscription; `destination` is already
 * rendered and escaped; `renderAddress` renders and escapes reply-to.
 */
export function messageHead(
  prefix: string,
  destination: string,
  ackId: string | null,
  delivery: Delivery,
  version: StompVersion,
  renderAddress: (address: string) => string,
): string {
  const m = delivery.message;
  let head = prefix + 'message-id:' + escapeHeader(m.id, version) + '\ndestination:' + destination + '\n';
  if (ackId !== null) head += 'ack:' + ackId + '\n';
  if (delivery.redelivered) head += 'redelivered:true\n';
  if (m.persistent) head += 'persistent:true\n';
  head += 'priority:' + m.priority + '\nexpires:' + m.expiration + '\ntimestamp:' + m.timestamp + '\n';
  if (m.correlationId !== undefined)
    head += 'correlation-id:' + escapeHeader(m.correlationId, version) + '\n';
  if (m.replyTo !== undefined) head += 'reply-to:' + renderAddress(m.replyTo) + '\n';
  if (m.groupId !== undefined) head += 'JMSXGroupID:' + escapeHeader(m.groupId, version) + '\n';
  if (m.contentType !== undefined) head += 'content-type:' + escapeHeader(m.contentType, version) + '\n';
  head += 'content-length:' + m.body.length + '\n';
  const props = m.properties;
  for (const name in props) {
    const v = props[name];
    if (v === null || v === undefined || RESERVED.has(name)) continue;
    head +=
      escapeHeaderName(name, version) +
      ':' +
      escapeHeader(typeof v === 'string' ? v : String(v), version) +
      '\n';
  }
  return head + '\n';
}
