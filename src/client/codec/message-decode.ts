/**
 * `blaze.v1.Message` decoded by hand (the client receives one per delivery). Field numbers and wire
 * types, from native.proto:
 *
 *    1 address LEN  2 body LEN  3 persistent VARINT  4 priority VARINT (proto3 optional: presence kept)
 *    5 expiration VARINT  6 correlation_id LEN  7 reply_to LEN  8 group_id LEN  9 content_type LEN
 *   10 properties LEN (map entry: 1 key LEN, 2 value LEN = Value)  11 time_to_live_ms VARINT
 *   12 id LEN  13 timestamp VARINT  14 original_address LEN
 *   Value: 1 string LEN | 2 double I64 | 3 int sint64 VARINT | 4 bool VARINT | 5 null VARINT (oneof)
 *
 * The object has every field, proto3 defaults filled ('' / 0 / false), so that all decoded messages
 * share one shape; `priority` stays undefined when absent (explicit presence: absent means 4).
 * `body` is a view of the frame, not a copy. Unknown fields are skipped; a known field with another
 * wire type is a PROTOCOL error.
 */
import type { WireMessage, WireValue } from './frames.js';
import { expectType, malformed, type Reader, StringCache, WT_I64, WT_LEN, WT_VARINT } from './reader.js';

const EMPTY_BODY = new Uint8Array(0);

/** Fields that repeat from one message to the next on a subscription: decoded once per change. */
const ADDRESS = new StringCache();
const CONTENT_TYPE = new StringCache();

/** Shared by every message without properties; replaced, never mutated, at the first entry. */
export const NO_PROPERTIES: Record<string, WireValue> = Object.freeze({}) as Record<string, WireValue>;

/** A map entry without a value is the Value default, no kind set: read as null (as protobufjs: `{}`). */
const NULL_VALUE: WireValue = Object.freeze({ null_value: true });

/** Decodes the Message occupying r.pos..end. */
export function decodeMessage(r: Reader, end: number): WireMessage {
  const m: WireMessage = {
    address: '',
    body: EMPTY_BODY,
    persistent: false,
    priority: undefined,
    expiration: 0,
    correlation_id: '',
    reply_to: '',
    group_id: '',
    content_type: '',
    properties: NO_PROPERTIES,
    time_to_live_ms: 0,
    id: '',
    timestamp: 0,
    original_address: '',
  };
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectType(wt, WT_LEN, 'Message.address');
        m.address = r.internedString(ADDRESS);
        break;
      case 2:
        expectType(wt, WT_LEN, 'Message.body');
        m.body = r.bytes();
        break;
      case 3:
        expectType(wt, WT_VARINT, 'Message.persistent');
        m.persistent = r.bool();
        break;
      case 4:
        expectType(wt, WT_VARINT, 'Message.priority');
        m.priority = r.uint32();
        break;
      case 5:
        expectType(wt, WT_VARINT, 'Message.expiration');
        m.expiration = r.uint64();
        break;
      case 6:
        expectType(wt, WT_LEN, 'Message.correlation_id');
        m.correlation_id = r.string();
        break;
      case 7:
        expectType(wt, WT_LEN, 'Message.reply_to');
        m.reply_to = r.string();
        break;
      case 8:
        expectType(wt, WT_LEN, 'Message.group_id');
        m.group_id = r.string();
        break;
      case 9:
        expectType(wt, WT_LEN, 'Message.content_type');
        m.content_type = r.internedString(CONTENT_TYPE);
        break;
      case 10:
        expectType(wt, WT_LEN, 'Message.properties');
        if (m.properties === NO_PROPERTIES) m.properties = {};
        decodeEntry(r, m.properties!);
        break;
      case 11:
        expectType(wt, WT_VARINT, 'Message.time_to_live_ms');
        m.time_to_live_ms = r.uint64();
        break;
      case 12:
        expectType(wt, WT_LEN, 'Message.id');
        m.id = r.string();
        break;
      case 13:
        expectType(wt, WT_VARINT, 'Message.timestamp');
        m.timestamp = r.uint64();
        break;
      case 14:
        expectType(wt, WT_LEN, 'Message.original_address');
        m.original_address = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  if (r.pos !== end) throw malformed('Message overruns its length');
  r.end = outer;
  return m;
}

function decodeEntry(r: Reader, into: Record<string, WireValue>): void {
  const end = r.lenEnd();
  const outer = r.end;
  r.end = end;
  let key = '';
  let value: WireValue = NULL_VALUE;
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectType(wt, WT_LEN, 'Message.properties key');
        key = r.string();
        break;
      case 2:
        expectType(wt, WT_LEN, 'Message.properties value');
        value = decodeValue(r);
        break;
      default:
        r.skip(wt);
    }
  }
  r.end = outer;
  // A key like "__proto__" must become an own property, not change the object's prototype.
  if (key === '__proto__') Object.defineProperty(into, key, { value, enumerable: true, writable: true });
  else into[key] = value;
}

/** The Value oneof: the last member on the wire wins (proto3); none set reads as null. */
function decodeValue(r: Reader): WireValue {
  const end = r.lenEnd();
  const outer = r.end;
  r.end = end;
  let value: WireValue = NULL_VALUE;
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectType(wt, WT_LEN, 'Value.string_value');
        value = { string_value: r.string() };
        break;
      case 2:
        expectType(wt, WT_I64, 'Value.double_value');
        value = { double_value: r.double() };
        break;
      case 3:
        expectType(wt, WT_VARINT, 'Value.int_value');
        value = { int_value: r.sint64() };
        break;
      case 4:
        expectType(wt, WT_VARINT, 'Value.bool_value');
        value = { bool_value: r.bool() };
        break;
      case 5:
        expectType(wt, WT_VARINT, 'Value.null_value');
        r.uint64();
        value = NULL_VALUE;
        break;
      default:
        r.skip(wt);
    }
  }
  r.end = outer;
  return value;
}
