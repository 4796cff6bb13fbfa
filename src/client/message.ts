/**
 * The client's message shapes and their mapping to the wire `Message` (native.proto). Property values
 * are typed as the broker's (string, number, boolean, null); a number that is a safe integer travels as
 * `int_value`, any other number as `double_value` (so 2.0 arrives as the integer 2, as in JSON).
 */
import type { WireMessage, WireValue } from './codec/frames.js';

export type PropertyValue = string | number | boolean | null;
export type Body = Uint8Array | string;

export interface PublishOptions {
  persistent?: boolean;
  /** 0..9; the broker's default (4) when absent. */
  priority?: number;
  /** Relative time to live, ms (the broker computes the expiration with its own clock). */
  timeToLive?: number;
  correlationId?: string;
  replyTo?: string;
  groupId?: string;
  /** Defaults to `text/plain; charset=utf-8` for string bodies. */
  contentType?: string;
  properties?: Record<string, PropertyValue>;
}

/** A message as received (subscribe, request, browse). */
export interface ReceivedMessage {
  readonly id: string;
  readonly address: string;
  readonly body: Uint8Array;
  readonly persistent: boolean;
  readonly priority: number;
  /** Epoch ms, 0 = never. */
  readonly expiration: number;
  readonly timestamp: number;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly groupId: string | undefined;
  readonly contentType: string | undefined;
  readonly originalAddress: string | undefined;
  readonly properties: Readonly<Record<string, PropertyValue>>;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
  /** The body decoded as UTF-8. */
  text(): string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';

export function toWireValue(v: PropertyValue): WireValue {
  if (v === null) return { null_value: true };
  switch (typeof v) {
    case 'string':
      return { string_value: v };
    case 'boolean':
      return { bool_value: v };
    case 'number':
      return Number.isSafeInteger(v) ? { int_value: v } : { double_value: v };
  }
  throw new TypeError(`property values are string, number, boolean or null, not ${typeof v}`);
}

export function fromWireValue(v: WireValue): PropertyValue {
  if ('string_value' in v && v.string_value !== undefined) return v.string_value;
  if ('int_value' in v && v.int_value !== undefined) return v.int_value;
  if ('double_value' in v && v.double_value !== undefined) return v.double_value;
  if ('bool_value' in v && v.bool_value !== undefined) return v.bool_value;
  return null;
}

export function toWireMessage(address: string, body: Body, o: PublishOptions = {}): WireMessage {
  const m: WireMessage = { address, body: typeof body === 'string' ? encoder.encode(body) : body };
  if (o.persistent) m.persistent = true;
  if (o.priority !== undefined) {
    if (!Number.isInteger(o.priority) || o.priority < 0 || o.priority > 9) {
      throw new RangeError(`priority ${o.priority} is not an integer 0..9`);
    }
    m.priority = o.priority;
  }
  if (o.timeToLive) m.time_to_live_ms = o.timeToLive;
  if (o.correlationId) m.correlation_id = o.correlationId;
  if (o.replyTo) m.reply_to = o.replyTo;
  if (o.groupId) m.group_id = o.groupId;
  const contentType = o.contentType ?? (typeof body === 'string' ? TEXT_CONTENT_TYPE : undefined);
  if (contentType) m.content_type = contentType;
  if (o.properties) {
    const props: Record<string, WireValue> = {};
    for (const [k, v] of Object.entries(o.properties)) props[k] = toWireValue(v);
    m.properties = props;
  }
  return m;
}

const orUndefined = (s: string | undefined) => (s ? s : undefined);

/** Shared by every received message without properties (the type is read-only; frozen to match). */
const NO_PROPERTIES: Readonly<Record<string, PropertyValue>> = Object.freeze({});

/**
 * A received message. A class, not an object literal with closures: every message shares `text()`
 * (and, for deliveries, `ack()`/`nack()`: subscription.ts) on the prototype, one allocation per message
 * (docs/CLIENT.md "Performance"). The fields are own enumerable properties, as before, so that spreading
 * or logging a message shows them.
 */
export class InboundMessage implements ReceivedMessage {
  readonly id: string;
  readonly address: string;
  readonly body: Uint8Array;
  readonly persistent: boolean;
  readonly priority: number;
  readonly expiration: number;
  readonly timestamp: number;
  readonly correlationId: string | undefined;
  readonly replyTo: string | undefined;
  readonly groupId: string | undefined;
  readonly contentType: string | undefined;
  readonly originalAddress: string | undefined;
  readonly properties: Readonly<Record<string, PropertyValue>>;
  readonly redelivered: boolean;
  readonly deliveryCount: number;

  constructor(m: WireMessage, redelivered: boolean, deliveryCount: number) {
    this.id = m.id ?? '';
    this.address = m.address ?? '';
    this.body = m.body ?? EMPTY_BODY;
    this.persistent = m.persistent ?? false;
    this.priority = m.priority ?? 4;
    this.expiration = m.expiration ?? 0;
    this.timestamp = m.timestamp ?? 0;
    this.correlationId = orUndefined(m.correlation_id);
    this.replyTo = orUndefined(m.reply_to);
    this.groupId = orUndefined(m.group_id);
    this.contentType = orUndefined(m.content_type);
    this.originalAddress = orUndefined(m.original_address);
    this.properties = propertiesOf(m.properties);
    this.redelivered = redelivered;
    this.deliveryCount = deliveryCount;
  }

  text(): string {
    return decoder.decode(this.body);
  }
}

const EMPTY_BODY = new Uint8Array(0);

function propertiesOf(wire: Record<string, WireValue> | undefined): Readonly<Record<string, PropertyValue>> {
  if (wire === undefined) return NO_PROPERTIES;
  let out: Record<string, PropertyValue> | undefined;
  // for-in, not Object.keys: no array for the usual message without properties.
  for (const k in wire) {
    out ??= {};
    // A "__proto__" key must stay a property, not replace the object's prototype.
    if (k === '__proto__') {
      Object.defineProperty(out, k, { value: fromWireValue(wire[k]!), enumerable: true, writable: true });
    } else out[k] = fromWireValue(wire[k]!);
  }
  return out ?? NO_PROPERTIES;
}

export function fromWireMessage(m: WireMessage, redelivered = false, deliveryCount = 1): ReceivedMessage {
  return new InboundMessage(m, redelivered, deliveryCount);
}
