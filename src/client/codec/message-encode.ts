/**
 * `blaze.v1.Message` encoded by hand (the client sends one per publish), byte-identical to protobufjs'
 * encoding of the same plain object (test/unit/client/hot-codec.test.ts): fields in number order, proto3
 * defaults ('' / 0 / false / empty bytes) not written, `priority` written whenever set (explicit
 * presence), map entries in Object.keys order with their key always written, and a Value's oneof member
 * written whenever set, even when it is a default (int 0, '', false). Field numbers: util/native-message.ts.
 */
import type { WireMessage, WireValue } from './frames.js';
import {
  sint64Size,
  stringFieldSize,
  tagOf,
  varFieldSize,
  varintSize,
  WT_I64,
  WT_LEN,
  WT_VARINT,
  writeSint64,
  writeString,
  writeStringField,
  writeVarField,
  writeVarint,
} from './writer.js';

const T_ADDRESS = tagOf(1, WT_LEN);
const T_BODY = tagOf(2, WT_LEN);
const T_PERSISTENT = tagOf(3, WT_VARINT);
const T_PRIORITY = tagOf(4, WT_VARINT);
const T_EXPIRATION = tagOf(5, WT_VARINT);
const T_CORRELATION = tagOf(6, WT_LEN);
const T_REPLY_TO = tagOf(7, WT_LEN);
const T_GROUP = tagOf(8, WT_LEN);
const T_CONTENT_TYPE = tagOf(9, WT_LEN);
const T_PROPERTY = tagOf(10, WT_LEN);
const T_TTL = tagOf(11, WT_VARINT);
const T_ID = tagOf(12, WT_LEN);
const T_TIMESTAMP = tagOf(13, WT_VARINT);
const T_ORIGINAL = tagOf(14, WT_LEN);

const T_KEY = tagOf(1, WT_LEN);
const T_VALUE = tagOf(2, WT_LEN);
const T_STRING = tagOf(1, WT_LEN);
const T_DOUBLE = tagOf(2, WT_I64);
const T_INT = tagOf(3, WT_VARINT);
const T_BOOL = tagOf(4, WT_VARINT);
const T_NULL = tagOf(5, WT_VARINT);

// A producer sends to the same address over and over: its length is measured once per change.
let measured = '';
let measuredSize = 0;

function addressSize(s: string | undefined): number {
  if (!s) return 0;
  if (s !== measured) {
    measured = s;
    measuredSize = stringFieldSize(s);
  }
  return measuredSize;
}

/** Encoded size of `m` (without its own tag and length). */
export function messageSize(m: WireMessage): number {
  let size = addressSize(m.address);
  const body = m.body;
  if (body && body.length > 0) size += 1 + varintSize(body.length) + body.length;
  if (m.persistent) size += 2;
  if (m.priority !== undefined && m.priority !== null) size += 1 + varintSize(m.priority);
  size += varFieldSize(m.expiration);
  size += stringFieldSize(m.correlation_id);
  size += stringFieldSize(m.reply_to);
  size += stringFieldSize(m.group_id);
  size += stringFieldSize(m.content_type);
  const props = m.properties;
  if (props) {
    for (const key of Object.keys(props)) {
      const e = entrySize(key, props[key]!);
      size += 1 + varintSize(e) + e;
    }
  }
  size += varFieldSize(m.time_to_live_ms);
  size += stringFieldSize(m.id);
  size += varFieldSize(m.timestamp);
  size += stringFieldSize(m.original_address);
  return size;
}

/** Writes `m` (of messageSize(m) bytes) at `p`; returns the position after it. */
export function writeMessage(buf: Uint8Array, p: number, m: WireMessage): number {
  p = writeStringField(buf, p, T_ADDRESS, m.address);
  const body = m.body;
  if (body && body.length > 0) {
    buf[p++] = T_BODY;
    p = writeVarint(buf, p, body.length);
    buf.set(body, p);
    p += body.length;
  }
  if (m.persistent) {
    buf[p++] = T_PERSISTENT;
    buf[p++] = 1;
  }
  if (m.priority !== undefined && m.priority !== null) {
    buf[p++] = T_PRIORITY;
    p = writeVarint(buf, p, m.priority);
  }
  p = writeVarField(buf, p, T_EXPIRATION, m.expiration);
  p = writeStringField(buf, p, T_CORRELATION, m.correlation_id);
  p = writeStringField(buf, p, T_REPLY_TO, m.reply_to);
  p = writeStringField(buf, p, T_GROUP, m.group_id);
  p = writeStringField(buf, p, T_CONTENT_TYPE, m.content_type);
  const props = m.properties;
  if (props) {
    for (const key of Object.keys(props)) {
      const v = props[key]!;
      buf[p++] = T_PROPERTY;
      p = writeVarint(buf, p, entrySize(key, v));
      p = writeString(buf, p, T_KEY, key);
      buf[p++] = T_VALUE;
      p = writeVarint(buf, p, valueSize(v));
      p = writeValue(buf, p, v);
    }
  }
  p = writeVarField(buf, p, T_TTL, m.time_to_live_ms);
  p = writeStringField(buf, p, T_ID, m.id);
  p = writeVarField(buf, p, T_TIMESTAMP, m.timestamp);
  return writeStringField(buf, p, T_ORIGINAL, m.original_address);
}

/** A string member is written even when '' (tag and length 0): a set oneof member has presence. */
const memberStringSize = (s: string): number => stringFieldSize(s) || 2;

function valueSize(v: WireValue): number {
  const x = v as AnyValue;
  let n = 0;
  if (x.string_value != null) n += memberStringSize(x.string_value);
  if (x.double_value != null) n += 9;
  if (x.int_value != null) n += 1 + sint64Size(x.int_value);
  if (x.bool_value != null) n += 2;
  if (x.null_value != null) n += 2;
  return n;
}

function entrySize(key: string, v: WireValue): number {
  const value = valueSize(v);
  return memberStringSize(key) + 1 + varintSize(value) + value;
}

const f64 = new DataView(new ArrayBuffer(8));

function writeValue(buf: Uint8Array, p: number, v: WireValue): number {
  const x = v as AnyValue;
  if (x.string_value != null) p = writeString(buf, p, T_STRING, x.string_value);
  if (x.double_value != null) {
    buf[p++] = T_DOUBLE;
    f64.setFloat64(0, x.double_value, true);
    for (let i = 0; i < 8; i++) buf[p++] = f64.getUint8(i);
  }
  if (x.int_value != null) {
    buf[p++] = T_INT;
    p = writeSint64(buf, p, x.int_value);
  }
  if (x.bool_value != null) {
    buf[p++] = T_BOOL;
    buf[p++] = x.bool_value ? 1 : 0;
  }
  if (x.null_value != null) {
    buf[p++] = T_NULL;
    buf[p++] = x.null_value ? 1 : 0;
  }
  return p;
}

/** A Value as protobufjs sees a plain object: every member that is set gets written. */
interface AnyValue {
  string_value?: string | null;
  double_value?: number | null;
  int_value?: number | null;
  bool_value?: boolean | null;
  null_value?: boolean | null;
}
