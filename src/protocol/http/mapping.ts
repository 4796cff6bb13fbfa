/**
 * HTTP request <-> protocol-neutral Message (docs/PROTOCOLS.md, "HTTP / WebSocket").
 *
 * In (send): as ActiveMQ's MessageServlet, request parameters become message properties, except the
 * parameters that control the request and the JMS header names, which set Message fields. Those JMS names
 * are also read from HTTP headers; other HTTP headers (host, user-agent, proxies') describe the HTTP hop,
 * not the message, and are not copied. Out (receive): the Message fields and properties as response
 * headers. Pure.
 */
import type { Delivery } from '../../core/api.js';
import type { MessageInit, PropertyValue } from '../../core/message.js';
import { setOwn } from '../../util/own-property.js';
import { HttpError } from './errors.js';

/** Parameters of the request itself, never message properties. */
const CONTROL_PARAMS = new Set([
  'type',
  'destination',
  'body',
  'readTimeout',
  'oneShot',
  'clientId',
  'selector',
  'persistent',
  'priority',
  'timeToLive',
]);

const JMS_FIELDS = [
  'JMSCorrelationID',
  'JMSReplyTo',
  'JMSPriority',
  'JMSDeliveryMode',
  'JMSTimeToLive',
  'JMSExpiration',
  'JMSXGroupID',
] as const;
const JMS_FIELD_SET: ReadonlySet<string> = new Set(JMS_FIELDS);

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function integerParam(name: string, text: string, min: number, max: number): number {
  if (!/^-?\d{1,15}$/.test(text)) throw new HttpError(400, `${name} must be an integer, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new HttpError(400, `${name} must be ${min}..${max}, got ${n}`);
  return n;
}

function parsePersistent(deliveryMode: string | undefined, persistent: string | undefined): boolean {
  if (deliveryMode !== undefined) {
    const m = deliveryMode.toLowerCase().replace('_', '-');
    if (m === 'persistent' || m === '2') return true;
    if (m === 'non-persistent' || m === '1') return false;
    throw new HttpError(
      400,
      `JMSDeliveryMode must be "persistent" or "non-persistent", got "${deliveryMode}"`,
    );
  }
  if (persistent !== undefined) {
    if (persistent === 'true') return true;
    if (persistent === 'false') return false;
    throw new HttpError(400, `persistent must be "true" or "false", got "${persistent}"`);
  }
  // JMS default delivery mode: a POST answered 200 is on disk.
  return true;
}

/**
 * The message a POST sends. `params` holds the query and, for a form body, the form fields (whose `body`
 * field is then the message body, as in ActiveMQ: `curl -d "body=hello"`).
 */
export function toMessageInit(
  address: string,
  body: Uint8Array,
  params: URLSearchParams,
  headers: Headers,
  now: number,
): MessageInit {
  const field = (name: string): string | undefined => params.get(name) ?? headerValue(headers, name);
  const properties: Record<string, PropertyValue> = {};
  for (const [name, value] of params) {
    if (CONTROL_PARAMS.has(name) || JMS_FIELD_SET.has(name) || Object.hasOwn(properties, name)) continue;
    setOwn(properties, name, value);
  }
  const init: MessageInit = {
    address,
    body,
    properties,
    persistent: parsePersistent(field('JMSDeliveryMode'), params.get('persistent') ?? undefined),
  };
  const priority = field('JMSPriority') ?? params.get('priority') ?? undefined;
  if (priority !== undefined) init.priority = integerParam('JMSPriority', priority, 0, 9);
  const ttl = field('JMSTimeToLive') ?? params.get('timeToLive') ?? undefined;
  const expiration = field('JMSExpiration');
  if (expiration !== undefined) {
    init.expiration = integerParam('JMSExpiration', expiration, 0, Number.MAX_SAFE_INTEGER);
  } else if (ttl !== undefined) {
    const ms = integerParam('JMSTimeToLive', ttl, 0, Number.MAX_SAFE_INTEGER - now);
    init.expiration = ms === 0 ? 0 : now + ms;
  }
  const correlationId = field('JMSCorrelationID');
  if (correlationId !== undefined) init.correlationId = correlationId;
  const replyTo = field('JMSReplyTo');
  if (replyTo !== undefined) init.replyTo = replyTo;
  const groupId = field('JMSXGroupID');
  if (groupId !== undefined) init.groupId = groupId;
  return init;
}

/** RFC 9110 §5.6.2 token: what a header name may be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII and spaces/tabs: what we put in a header value without encoding. */
const SAFE_VALUE = /^[\t\x20-\x7e]*$/;
/** Headers a property must never set: they frame the HTTP exchange or are set from Message fields. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'set-cookie',
  'cache-control',
  'date',
  'trailer',
  'te',
  'id',
  'destination',
  'redelivered',
  'delivery-count',
  ...JMS_FIELDS.map((f) => f.toLowerCase()),
  'jmstimestamp',
]);

/**
 * Response headers for a received message: ActiveMQ's `id` and `destination`, the JMS fields, and every
 * property whose name is a header token and whose value is plain ASCII (others are left out rather than
 * mangled; STOMP or the /v1 JSON API carry them).
 */
export function messageHeaders(delivery: Delivery): Record<string, string> {
  const m = delivery.message;
  const out: Record<string, string> = {
    id: m.id,
    destination: m.address,
    redelivered: String(delivery.redelivered),
    'delivery-count': String(delivery.deliveryCount),
    'content-type': m.contentType ?? 'application/octet-stream',
    JMSPriority: String(m.priority),
    JMSDeliveryMode: m.persistent ? 'persistent' : 'non-persistent',
    JMSTimestamp: String(m.timestamp),
    JMSExpiration: String(m.expiration),
  };
  const optional: Array<[string, string | undefined]> = [
    ['JMSCorrelationID', m.correlationId],
    ['JMSReplyTo', m.replyTo],
    ['JMSXGroupID', m.groupId],
  ];
  for (const [name, value] of optional) if (value !== undefined && SAFE_VALUE.test(value)) out[name] = value;
  for (const [name, value] of Object.entries(m.properties)) {
    const text = value === null ? '' : String(value);
    if (!TOKEN.test(name) || RESERVED_HEADERS.has(name.toLowerCase()) || !SAFE_VALUE.test(text)) continue;
    out[name] = text;
  }
  return out;
}
