/**
 * How MQTT session state is laid out as key/value records (core/kv.ts): one record per item, so that a
 * change writes a few dozen bytes, never the whole session.
 *
 *   key                         value
 *   s:<client>                  session header, JSON {"e": expiry seconds, "o"?: offline since (epoch ms)}
 *   u:<client>:<filter>         subscription, JSON SubscriptionRecord (filter as subscribed, $share/ kept)
 *   i:<client>:<packet id>      incoming QoS 2 packet id answered with PUBREC, awaiting PUBREL; empty
 *   o:<client>:<packet id>      outgoing QoS 1/2 delivery in flight: u8 flags (bits 0-1 QoS, bit 2
 *                               released = PUBREC received), then the core message id in UTF-8
 *
 * `<client>` is the client identifier percent-encoded (encodeURIComponent), so it holds no `:` and the
 * key splits unambiguously; the filter is the rest of the key. Decoders return undefined for anything
 * malformed: a record this build cannot read is dropped, not trusted.
 */
import type { OutboundRecord, QoS, SubscriptionRecord } from '../state.js';

export type RecordKey =
  | { readonly kind: 'session'; readonly clientId: string }
  | { readonly kind: 'subscription'; readonly clientId: string; readonly filter: string }
  | { readonly kind: 'inbound' | 'outbound'; readonly clientId: string; readonly packetId: number };

export interface SessionHeader {
  readonly expiryInterval: number;
  readonly offlineSince?: number;
}

const EMPTY = new Uint8Array(0);
const RELEASED = 4;

export const encodeClientId = (clientId: string): string => encodeURIComponent(clientId);

export const sessionKey = (enc: string): string => `s:${enc}`;
export const subscriptionKey = (enc: string, filter: string): string => `u:${enc}:${filter}`;
export const inboundKey = (enc: string, packetId: number): string => `i:${enc}:${packetId}`;
export const outboundKey = (enc: string, packetId: number): string => `o:${enc}:${packetId}`;

export function parseKey(key: string): RecordKey | undefined {
  if (key.length < 3 || key[1] !== ':') return undefined;
  const tag = key[0];
  const end = key.indexOf(':', 2);
  let clientId: string;
  try {
    clientId = decodeURIComponent(end < 0 ? key.slice(2) : key.slice(2, end));
  } catch {
    return undefined;
  }
  if (tag === 's') return end < 0 ? { kind: 'session', clientId } : undefined;
  if (end < 0) return undefined;
  const rest = key.slice(end + 1);
  if (tag === 'u') return rest.length > 0 ? { kind: 'subscription', clientId, filter: rest } : undefined;
  if (tag !== 'i' && tag !== 'o') return undefined;
  const packetId = Number(rest);
  // [MQTT-2.2.1-3] non-zero 16-bit; written by `String(n)`, so any other spelling is not ours.
  if (!Number.isInteger(packetId) || packetId < 1 || packetId > 0xffff || String(packetId) !== rest)
    return undefined;
  return { kind: tag === 'i' ? 'inbound' : 'outbound', clientId, packetId };
}

const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v), 'utf8');

function parseJson(value: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isUint32 = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;

export function encodeHeader(h: SessionHeader): Uint8Array {
  return json(
    h.offlineSince === undefined ? { e: h.expiryInterval } : { e: h.expiryInterval, o: h.offlineSince },
  );
}

export function decodeHeader(value: Uint8Array): SessionHeader | undefined {
  const v = parseJson(value);
  if (!isObject(v) || !isUint32(v['e'])) return undefined;
  const o = v['o'];
  if (o === undefined) return { expiryInterval: v['e'] };
  if (typeof o !== 'number' || !Number.isFinite(o)) return undefined;
  return { expiryInterval: v['e'], offlineSince: o };
}

export function encodeSubscription(r: SubscriptionRecord): Uint8Array {
  return json(r);
}

export function decodeSubscription(value: Uint8Array, filter: string): SubscriptionRecord | undefined {
  const v = parseJson(value);
  if (!isObject(v) || v['filter'] !== filter) return undefined;
  const { qos, noLocal, retainAsPublished, retainHandling, subscriptionId } = v;
  if (qos !== 0 && qos !== 1 && qos !== 2) return undefined;
  if (typeof noLocal !== 'boolean' || typeof retainAsPublished !== 'boolean') return undefined;
  if (retainHandling !== 0 && retainHandling !== 1 && retainHandling !== 2) return undefined;
  if (subscriptionId !== undefined && !(isUint32(subscriptionId) && subscriptionId > 0)) return undefined;
  return {
    filter,
    qos: qos as QoS,
    noLocal,
    retainAsPublished,
    retainHandling,
    ...(subscriptionId === undefined ? {} : { subscriptionId: subscriptionId as number }),
  };
}

export const inboundValue = (): Uint8Array => EMPTY;

/** One per QoS 1/2 delivery of a persistent session: one allocation, the id copied by hand when ASCII. */
export function encodeOutbound(r: OutboundRecord): Uint8Array {
  const id = r.messageId;
  const flags = r.qos | (r.released ? RELEASED : 0);
  const n = id.length;
  let out = Buffer.allocUnsafe(1 + n);
  let i = 0;
  // Core message ids are ASCII: a UTF-8 byte per character.
  for (; i < n; i++) {
    const c = id.charCodeAt(i);
    if (c >= 0x80) break;
    out[1 + i] = c;
  }
  if (i < n) {
    out = Buffer.allocUnsafe(1 + Buffer.byteLength(id, 'utf8'));
    out.write(id, 1, 'utf8');
  }
  out[0] = flags;
  return out;
}

export function decodeOutbound(value: Uint8Array): OutboundRecord | undefined {
  if (value.length < 2) return undefined;
  const flags = value[0]!;
  const qos = flags & 3;
  if ((qos !== 1 && qos !== 2) || (flags & ~(3 | RELEASED)) !== 0) return undefined;
  const released = (flags & RELEASED) !== 0;
  // Only a QoS 2 delivery has a PUBREC.
  if (released && qos !== 2) return undefined;
  const messageId = Buffer.from(value.buffer, value.byteOffset + 1, value.byteLength - 1).toString('utf8');
  return { messageId, qos, released };
}
