/**
 * SEND frame -> core MessageInit (docs/PROTOCOLS.md "STOMP mapping onto the core message").
 * Headers with a meaning become Message fields; every other header becomes a string property, unchanged.
 */
import type { MessageInit, PropertyValue } from '../../core/message.js';
import { BlazeError } from '../../util/errors.js';
import type { StompFrame } from './codec/frame.js';

/** SEND headers consumed by the mapping (or by the session), never copied into properties. */
const MAPPED = new Set([
  'destination',
  'persistent',
  'priority',
  'expires',
  'correlation-id',
  'reply-to',
  'JMSXGroupID',
  'content-type',
  'content-length',
  'transaction',
  'receipt',
]);
const INTEGER = /^\s*[0-9]+\s*$/;

export function toMessageInit(frame: StompFrame, address: string, replyTo: string | undefined): MessageInit {
  const h = frame.headers;
  const init: MessageInit = { address, body: frame.body };
  // ActiveMQ: STOMP messages are non-persistent unless `persistent:true`.
  if (h['persistent'] !== undefined) init.persistent = h['persistent'].trim().toLowerCase() === 'true';
  if (h['priority'] !== undefined) init.priority = parsePriority(h['priority']);
  if (h['expires'] !== undefined) init.expiration = parseInteger('expires', h['expires']);
  if (h['correlation-id'] !== undefined) init.correlationId = h['correlation-id'];
  if (replyTo !== undefined) init.replyTo = replyTo;
  if (h['JMSXGroupID'] !== undefined) init.groupId = h['JMSXGroupID'];
  if (h['content-type'] !== undefined) init.contentType = h['content-type'];
  let props: Record<string, PropertyValue> | undefined;
  for (const name in h) {
    if (MAPPED.has(name)) continue;
    if (props === undefined) props = Object.create(null) as Record<string, PropertyValue>;
    props[name] = h[name]!;
  }
  if (props !== undefined) init.properties = props;
  return init;
}

function parsePriority(v: string): number {
  // JMS priorities are 0..9; larger values are clamped rather than refused, as ActiveMQ does.
  return Math.min(9, parseInteger('priority', v));
}

function parseInteger(name: string, v: string): number {
  if (!INTEGER.test(v))
    throw new BlazeError(
      'BAD_REQUEST',
      `Header ${name} must be a non-negative integer, got '${v.slice(0, 32)}'`,
    );
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new BlazeError('BAD_REQUEST', `Header ${name} is out of range`);
  return n;
}
