/**
 * `blaze.v1.Message` encoded by hand (the client sends one per publish), byte-identical to protobufjs'
 * encoding of the same plain object (test/unit/client/hot-codec.test.ts): fields in number order, proto3
 * defaults ('' / 0 / false / empty bytes) not written, `priority` written whenever set (explicit
 * presence), map entries in Object.keys order with their key always written, and a Value's oneof member
 * written whenever set, even when it is a default (int 0, '', false). Field numbers: util/native-message.ts.
 */
import { MESSAGE_TAG as TAG } from '../../util/native-message.js';
import type { WireMessage, WireValue } from './frames.js';
import {
  sint64Size,
  stringFieldSize,
  varFieldSize,
  varintSize,
  writeSint64,
  writeString,
  writeStringField,
  writeVarField,
  writeVarint,
} from './writer.js';

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
  p = writeStringField(buf, p, TAG.address, m.address);
  const body = m.body;
  if (body && body.length > 0) {
    buf[p++] = TAG.body;
    p = writeVarint(buf, p, body.length);
    buf.set(body, p);
    p += body.length;
  }
  if (m.persistent) {
    buf[p++] = TAG.persistent;
    buf[p++] = 1;
  }
  if (m.priority !== undefined && m.priority !== null) {
    buf[p++] = TAG.priority;
    p = writeVarint(buf, p, m.priority);
  }
  p = writeVarField(buf, p, TAG.expiration, m.expiration);
  p = writeStringField(buf, p, TAG.correlationId, m.correlation_id);
  p = writeStringField(buf, p, TAG.replyTo, m.reply_to);
  p = writeStringField(buf, p, TAG.groupId, m.group_id);
  p = writeStringField(buf, p, TAG.contentType, m.content_type);
  const props = m.properties;
  if (props) {
    for (const key of Object.keys(props)) {
      const v = props[key]!;
      buf[p++] = TAG.property;
      p = writeVarint(buf, p, entrySize(key, v));
      p = writeString(buf, p, TAG.entryKey, key);
      buf[p++] = TAG.entryValue;
      p = writeVarint(buf, p, valueSize(v));
      p = writeValue(buf, p, v);
    }
  }
  p = writeVarField(buf, p, TAG.timeToLive, m.time_to_live_ms);
  p = writeStringField(buf, p, TAG.id, m.id);
  p = writeVarField(buf, p, TAG.timestamp, m.timestamp);
  return writeStringField(buf, p, TAG.originalAddress, m.original_address);
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
  if (x.string_value != null) p = writeString(buf, p, TAG.string, x.string_value);
  if (x.double_value != null) {
    buf[p++] = TAG.double;
    f64.setFloat64(0, x.double_value, true);
    for (let i = 0; i < 8; i++) buf[p++] = f64.getUint8(i);
  }
  if (x.int_value != null) {
    buf[p++] = TAG.int;
    p = writeSint64(buf, p, x.int_value);
  }
  if (x.bool_value != null) {
    buf[p++] = TAG.bool;
    buf[p++] = x.bool_value ? 1 : 0;
  }
  if (x.null_value != null) {
    buf[p++] = TAG.null;
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
