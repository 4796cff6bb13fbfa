/**
 * `blaze.v1.Message` by hand, both ways, byte-compatible with protobufjs (test/unit/native checks both
 * directions). Field numbers and wire types, from native.proto:
 *
 *    1 address LEN  2 body LEN  3 persistent VARINT  4 priority VARINT (proto3 optional: presence kept)
 *    5 expiration VARINT  6 correlation_id LEN  7 reply_to LEN  8 group_id LEN  9 content_type LEN
 *   10 properties LEN (map entry: 1 key LEN, 2 value LEN = Value)  11 time_to_live_ms VARINT
 *   12 id LEN  13 timestamp VARINT  14 original_address LEN
 *   Value: 1 string LEN | 2 double I64 | 3 int sint64 VARINT | 4 bool VARINT | 5 null VARINT (oneof)
 *
 * Decoding (util/native-message.ts, shared with the client) leaves `body` a view of the frame. Encoding
 * writes proto3's canonical form (defaults omitted, fields in number order), one pass into one buffer.
 */

import type { Message, PropertyValue } from '../../../core/message.js';
import { MESSAGE_TAG as TAG } from '../../../util/native-message.js';
import type { WireValue } from './types.js';
import {
  SINT_SAFE,
  stringFieldSize,
  varintSize,
  writeString,
  writeStringField,
  writeVarint,
  zigzag,
} from './wire.js';

/**
 * Decoding is shared with the client (util/native-message.ts); so are the string writers (util/protobuf-wire.ts).
 */
export { decodeMessage } from '../../../util/native-message.js';

/** A wire Value as the core's property value. */
export function propertyOf(v: WireValue): PropertyValue {
  if ('string_value' in v) return v.string_value;
  if ('int_value' in v) return v.int_value;
  if ('double_value' in v) return v.double_value;
  if ('bool_value' in v) return v.bool_value;
  return null;
}

// ---------------------------------------------------------------------------------------------- encode

// The last address measured: a queue's messages all carry the same address string, so its length is
// known without scanning it again for every delivery (kept apart from the other strings, which differ
// per message and would evict it).
let measuredAddress = '';
let measuredAddressField = 0;

function addressField(address: string): number {
  if (address !== measuredAddress) {
    measuredAddress = address;
    measuredAddressField = stringFieldSize(address);
  }
  return measuredAddressField;
}

/** Integers whose zigzag form is exact in a double go as int_value; others (and fractions) as doubles. */
function isSmallInt(v: number): boolean {
  return Number.isInteger(v) && v < SINT_SAFE && v > -SINT_SAFE;
}

/** Encoded size of a Value message holding `v`. */
function valueSize(v: PropertyValue): number {
  if (v === null || typeof v === 'boolean') return 2;
  if (typeof v === 'string') return stringFieldSize(v) || 2;
  if (isSmallInt(v)) return 1 + varintSize(zigzag(v));
  return 9;
}

function entrySize(key: string, v: PropertyValue): number {
  const value = valueSize(v);
  return stringFieldSize(key) + 1 + varintSize(value) + value;
}

function putValue(buf: Buffer, p: number, v: PropertyValue): number {
  if (v === null) {
    buf[p++] = TAG.null;
    buf[p++] = 1;
  } else if (typeof v === 'boolean') {
    buf[p++] = TAG.bool;
    buf[p++] = v ? 1 : 0;
  } else if (typeof v === 'string') {
    // An empty string is still a set oneof member: writeString writes it explicitly (tag + length 0).
    p = writeString(buf, p, TAG.string, v);
  } else if (isSmallInt(v)) {
    buf[p++] = TAG.int;
    p = writeVarint(buf, p, zigzag(v));
  } else {
    buf[p++] = TAG.double;
    buf.writeDoubleLE(v, p);
    p += 8;
  }
  return p;
}

let sizedMessage: Message | undefined;
let sizedBytes = 0;

/**
 * Encoded size of `m` as a `blaze.v1.Message` (without tag or length). Remembers the last message: a
 * topic hands one Message to every subscriber in a row.
 */
export function messageSize(m: Message): number {
  if (m === sizedMessage) return sizedBytes;
  const bodyLen = m.body.length;
  let size = 0;
  size += addressField(m.address);
  if (bodyLen > 0) size += 1 + varintSize(bodyLen) + bodyLen;
  if (m.persistent) size += 2;
  if (m.priority !== 4) size += 1 + varintSize(m.priority);
  if (m.expiration > 0) size += 1 + varintSize(m.expiration);
  size += stringFieldSize(m.correlationId);
  size += stringFieldSize(m.replyTo);
  size += stringFieldSize(m.groupId);
  size += stringFieldSize(m.contentType);
  const props = m.properties;
  for (const key in props) {
    const e = entrySize(key, props[key]!);
    size += 1 + varintSize(e) + e;
  }
  size += stringFieldSize(m.id);
  if (m.timestamp > 0) size += 1 + varintSize(m.timestamp);
  size += stringFieldSize(m.originalAddress);
  sizedMessage = m;
  sizedBytes = size;
  return size;
}

/** Writes `m` (of `messageSize(m)` bytes) at `p`; returns the position after it. */
export function writeMessage(buf: Buffer, p: number, m: Message): number {
  const bodyLen = m.body.length;
  p = writeStringField(buf, p, TAG.address, m.address);
  if (bodyLen > 0) {
    buf[p++] = TAG.body;
    p = writeVarint(buf, p, bodyLen);
    buf.set(m.body, p);
    p += bodyLen;
  }
  if (m.persistent) {
    buf[p++] = TAG.persistent;
    buf[p++] = 1;
  }
  if (m.priority !== 4) {
    buf[p++] = TAG.priority;
    p = writeVarint(buf, p, m.priority);
  }
  if (m.expiration > 0) {
    buf[p++] = TAG.expiration;
    p = writeVarint(buf, p, m.expiration);
  }
  p = writeStringField(buf, p, TAG.correlationId, m.correlationId);
  p = writeStringField(buf, p, TAG.replyTo, m.replyTo);
  p = writeStringField(buf, p, TAG.groupId, m.groupId);
  p = writeStringField(buf, p, TAG.contentType, m.contentType);
  const props = m.properties;
  for (const key in props) {
    const v = props[key]!;
    buf[p++] = TAG.property;
    p = writeVarint(buf, p, entrySize(key, v));
    if (key.length > 0) p = writeString(buf, p, TAG.entryKey, key);
    buf[p++] = TAG.entryValue;
    p = writeVarint(buf, p, valueSize(v));
    p = putValue(buf, p, v);
  }
  p = writeStringField(buf, p, TAG.id, m.id);
  if (m.timestamp > 0) {
    buf[p++] = TAG.timestamp;
    p = writeVarint(buf, p, m.timestamp);
  }
  return writeStringField(buf, p, TAG.originalAddress, m.originalAddress);
}

/** Bytes of `m` as a `blaze.v1.Message` (without tag or length). */
export function encodeMessage(m: Message): Buffer {
  const size = messageSize(m);
  const buf = Buffer.allocUnsafe(size);
  const end = writeMessage(buf, 0, m);
  if (end !== size) throw new Error(`native message encoder wrote ${end} of ${size} bytes`);
  return buf;
}
