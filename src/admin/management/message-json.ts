/**
 * Messages as the management API shows and accepts them (JSON). Bodies are bytes in the core: shown as
 * UTF-8 text when they decode as valid UTF-8, else as base64 with `"bodyEncoding": "base64"`, so that any
 * body survives a browse -> send round trip.
 */
import { parseAddress } from '../../core/address.js';
import type { Message, MessageInit, PropertyValue } from '../../core/message.js';
import { parseProperties } from '../../protocol/http/v1/message-json.js';
import { badRequest } from './errors.js';

export type BodyEncoding = 'utf8' | 'base64';

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
  correlationId: string | null;
  replyTo: string | null;
  groupId?: string;
  contentType?: string;
  originalAddress?: string;
  deliveryCount: number;
  redelivered: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The body as text, or undefined when it is not valid UTF-8. */
export function utf8OrUndefined(body: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}

export function messageToJson(message: Message, deliveryCount: number, redelivered: boolean): MessageJson {
  const text = utf8OrUndefined(message.body);
  const json: MessageJson = {
    id: message.id,
    address: message.address,
    body:
      text ??
      Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString('base64'),
    properties: { ...message.properties },
    persistent: message.persistent,
    priority: message.priority,
    timestamp: message.timestamp,
    expiration: message.expiration,
    correlationId: message.correlationId ?? null,
    replyTo: message.replyTo ?? null,
    deliveryCount,
    redelivered,
  };
  if (text === undefined) json.bodyEncoding = 'base64';
  if (message.groupId !== undefined) json.groupId = message.groupId;
  if (message.contentType !== undefined) json.contentType = message.contentType;
  if (message.originalAddress !== undefined) json.originalAddress = message.originalAddress;
  return json;
}

const SEND_FIELDS: ReadonlySet<string> = new Set([
  'body',
  'bodyEncoding',
  'properties',
  'persistent',
  'priority',
  'expiration',
  'timeToLive',
  'correlationId',
  'replyTo',
  'groupId',
  'contentType',
]);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`"${key}" must be a string`);
  return v;
}

/**
 * A send request body (`{body, properties?, persistent?, priority?, ...}`) as a MessageInit for `address`.
 * Unknown fields are refused, so that a misspelt option is an error rather than silently ignored. `now`
 * turns `timeToLive` (ms) into an expiration.
 */
export function parseSendRequest(json: unknown, address: string, now: number): MessageInit {
  if (!isRecord(json)) throw badRequest('the request body must be a JSON object');
  for (const k of Object.keys(json)) {
    if (!SEND_FIELDS.has(k)) throw badRequest(`unknown field "${k}"`);
  }
  const bodyText = json['body'];
  if (typeof bodyText !== 'string') throw badRequest('"body" must be a string');
  const encoding = json['bodyEncoding'] ?? 'utf8';
  let body: Uint8Array;
  if (encoding === 'utf8') body = Buffer.from(bodyText, 'utf8');
  else if (encoding === 'base64') {
    if (!BASE64.test(bodyText)) throw badRequest('"body" is not valid base64');
    body = Buffer.from(bodyText, 'base64');
  } else throw badRequest('"bodyEncoding" must be "utf8" or "base64"');

  const init: MessageInit = { address, body };
  const props =
    json['properties'] === undefined || json['properties'] === null
      ? undefined
      : parseProperties(json['properties'], 'properties');
  if (props !== undefined) init.properties = props;
  const persistent = json['persistent'];
  if (persistent !== undefined) {
    if (typeof persistent !== 'boolean') throw badRequest('"persistent" must be a boolean');
    init.persistent = persistent;
  }
  const priority = json['priority'];
  if (priority !== undefined) {
    // JMS 3.4.10: 0..9. Refused rather than clamped: this API is typed, a bad value is a mistake.
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 0 || priority > 9) {
      throw badRequest('"priority" must be an integer from 0 to 9');
    }
    init.priority = priority;
  }
  const expiration = json['expiration'];
  const ttl = json['timeToLive'];
  if (expiration !== undefined && ttl !== undefined) {
    throw badRequest('give "expiration" or "timeToLive", not both');
  }
  if (expiration !== undefined) {
    if (typeof expiration !== 'number' || !Number.isInteger(expiration) || expiration < 0) {
      throw badRequest('"expiration" must be epoch milliseconds (0 = never)');
    }
    init.expiration = expiration;
  }
  if (ttl !== undefined) {
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 0) {
      throw badRequest('"timeToLive" must be a number of milliseconds (0 = never)');
    }
    if (ttl > 0) init.expiration = now + ttl;
  }
  const correlationId = optionalString(json, 'correlationId');
  if (correlationId !== undefined) init.correlationId = correlationId;
  const replyTo = optionalString(json, 'replyTo');
  // Stored canonical (`/queue/x` style names are the protocols' business); throws INVALID_ADDRESS.
  if (replyTo !== undefined) init.replyTo = parseAddress(replyTo).canonical;
  const groupId = optionalString(json, 'groupId');
  if (groupId !== undefined) init.groupId = groupId;
  const contentType = optionalString(json, 'contentType');
  if (contentType !== undefined) init.contentType = contentType;
  return init;
}
