/**
 * The JSON form of a message in the /v1 API (docs/HTTP.md), both ways. Pure, unit- and property-tested.
 *
 * In (send): `{body, bodyEncoding?, properties?, persistent?, priority?, timeToLiveMs?, correlationId?,
 * replyTo?, groupId?, contentType?}`. `body` is text (UTF-8), base64 with `bodyEncoding: "base64"`, or any
 * other JSON value, which is sent as its JSON text with content type application/json. Unknown fields are
 * refused (400) rather than ignored: a misspelt `priorty` silently dropped is a bug the sender never sees.
 *
 * Out (browse, receive): every Message field, the body as text when it is valid UTF-8, else base64 with
 * `bodyEncoding: "base64"` (the management API's browse uses the same shape).
 */
import { isUtf8 } from 'node:buffer';
import type { Delivery } from '../../../core/api.js';
import type { Message, MessageInit, PropertyValue } from '../../../core/message.js';
import { setOwn } from '../../../util/own-property.js';
import { HttpError } from '../errors.js';

const SEND_FIELDS = new Set([
  'body',
  'bodyEncoding',
  'properties',
  'persistent',
  'priority',
  'timeToLiveMs',
  'correlationId',
  'replyTo',
  'groupId',
  'contentType',
]);
/** Property names: what every protocol can carry (STOMP header, MQTT user property, JMS identifier-ish). */
const MAX_PROPERTY_NAME = 256;
const MAX_PROPERTIES = 1000;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bad(path: string, problem: string): HttpError {
  return new HttpError(400, `${path}: ${problem}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(o: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${path}.${key}`, 'expected a string');
  return v;
}

/**
 * Message properties from JSON, with the limits every HTTP way in applies (count, name length, no control
 * characters); used by the /v1 API and the management API's send.
 */
export function parseProperties(v: unknown, path: string): Record<string, PropertyValue> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw bad(path, 'expected an object of name -> string, number, boolean or null');
  const out: Record<string, PropertyValue> = {};
  const names = Object.keys(v);
  if (names.length > MAX_PROPERTIES) throw bad(path, `more than ${MAX_PROPERTIES} properties`);
  for (const name of names) {
    if (name.length === 0 || name.length > MAX_PROPERTY_NAME || /[\u0000-\u001f\u007f]/.test(name)) {
      throw bad(path, `bad property name ${JSON.stringify(name.slice(0, 40))}`);
    }
    const value = v[name];
    if (typeof value === 'number' && !Number.isFinite(value)) throw bad(`${path}.${name}`, 'not finite');
    if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
      throw bad(`${path}.${name}`, 'expected a string, number, boolean or null');
    }
    setOwn(out, name, value as PropertyValue);
  }
  return out;
}

function parseReplyTo(v: string | undefined, path: string): string | undefined {
  if (v === undefined) return undefined;
  if (!/^(queue|topic|temp-queue|temp-topic):\/\/[^\u0000-\u001f\u007f]+$/.test(v)) {
    throw bad(`${path}.replyTo`, 'expected an address such as "queue://replies"');
  }
  return v;
}

function parseBody(o: Record<string, unknown>, path: string): { body: Uint8Array; json: boolean } {
  const encoding = o.bodyEncoding;
  if (encoding !== undefined && encoding !== 'base64' && encoding !== 'utf8') {
    throw bad(`${path}.bodyEncoding`, 'expected "base64" or "utf8"');
  }
  const body = o.body;
  if (body === undefined) return { body: new Uint8Array(0), json: false };
  if (encoding === 'base64') {
    if (typeof body !== 'string' || !STRICT_BASE64.test(body)) {
      throw bad(`${path}.body`, 'not valid base64 (bodyEncoding is "base64")');
    }
    return { body: Buffer.from(body, 'base64'), json: false };
  }
  if (typeof body === 'string') return { body: Buffer.from(body, 'utf8'), json: false };
  return { body: Buffer.from(JSON.stringify(body), 'utf8'), json: true };
}

/**
 * A send request's JSON (already parsed) as the message to send to `address`. `now` is the epoch ms the
 * time-to-live counts from. Throws HttpError 400 naming the offending field.
 */
export function parseMessageJson(
  value: unknown,
  address: string,
  now: number,
  path = 'message',
): MessageInit {
  if (!isObject(value)) throw bad(path, 'expected a JSON object');
  for (const key of Object.keys(value)) {
    if (!SEND_FIELDS.has(key)) throw bad(`${path}.${key}`, 'unknown field');
  }
  const { body, json } = parseBody(value, path);
  const init: MessageInit = {
    address,
    body,
    properties: parseProperties(value.properties, `${path}.properties`),
  };
  const persistent = value.persistent;
  if (persistent !== undefined && typeof persistent !== 'boolean') {
    throw bad(`${path}.persistent`, 'expected true or false');
  }
  // Like the REST API and JMS: persistent unless said otherwise, so a 2xx means it is on disk.
  init.persistent = persistent ?? true;
  const priority = value.priority;
  if (priority !== undefined) {
    if (!Number.isInteger(priority) || (priority as number) < 0 || (priority as number) > 9) {
      throw bad(`${path}.priority`, 'expected an integer 0..9');
    }
    init.priority = priority as number;
  }
  const ttl = value.timeToLiveMs;
  if (ttl !== undefined) {
    if (
      !Number.isSafeInteger(ttl) ||
      (ttl as number) < 0 ||
      (ttl as number) > Number.MAX_SAFE_INTEGER - now
    ) {
      throw bad(`${path}.timeToLiveMs`, 'expected milliseconds (0 = never expires)');
    }
    init.expiration = ttl === 0 ? 0 : now + (ttl as number);
  }
  const correlationId = optionalString(value, 'correlationId', path);
  if (correlationId !== undefined) init.correlationId = correlationId;
  const replyTo = parseReplyTo(optionalString(value, 'replyTo', path), path);
  if (replyTo !== undefined) init.replyTo = replyTo;
  const groupId = optionalString(value, 'groupId', path);
  if (groupId !== undefined) init.groupId = groupId;
  const contentType = optionalString(value, 'contentType', path);
  if (contentType !== undefined) init.contentType = contentType;
  else if (json) init.contentType = 'application/json';
  return init;
}

/** The JSON text of a request body, or 400 naming where it broke. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
  }
}

export interface MessageJson {
  id: string;
  address: string;
  body: string;
  bodyEncoding?: 'base64';
  properties: Record<string, PropertyValue>;
  persistent: boolean;
  priority: number;
  timestamp: number;
  expiration: number;
  correlationId?: string;
  replyTo?: string;
  groupId?: string;
  contentType?: string;
  deliveryCount?: number;
  redelivered?: boolean;
}

export function messageToJson(
  m: Message,
  delivery?: Pick<Delivery, 'deliveryCount' | 'redelivered'>,
): MessageJson {
  const body = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength);
  const text = isUtf8(body);
  const out: MessageJson = {
    id: m.id,
    address: m.address,
    body: text ? body.toString('utf8') : body.toString('base64'),
    properties: { ...m.properties },
    persistent: m.persistent,
    priority: m.priority,
    timestamp: m.timestamp,
    expiration: m.expiration,
  };
  if (!text) out.bodyEncoding = 'base64';
  if (m.correlationId !== undefined) out.correlationId = m.correlationId;
  if (m.replyTo !== undefined) out.replyTo = m.replyTo;
  if (m.groupId !== undefined) out.groupId = m.groupId;
  if (m.contentType !== undefined) out.contentType = m.contentType;
  if (delivery) {
    out.deliveryCount = delivery.deliveryCount;
    out.redelivered = delivery.redelivered;
  }
  return out;
}
