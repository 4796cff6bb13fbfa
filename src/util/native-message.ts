/**
 * `blaze.v1.Message` decoded by hand: one decoder for the broker (Send, SendBatch) and the client
 * (Deliver, Browse), which both receive messages. Field numbers and wire types, from native.proto:
 *
 *    1 address LEN  2 body LEN  3 persistent VARINT  4 priority VARINT (proto3 optional: presence kept)
 *    5 expiration VARINT  6 correlation_id LEN  7 reply_to LEN  8 group_id LEN  9 content_type LEN
 *   10 properties LEN (map entry: 1 key LEN, 2 value LEN = Value)  11 time_to_live_ms VARINT
 *   12 id LEN  13 timestamp VARINT  14 original_address LEN
 *   Value: 1 string LEN | 2 double I64 | 3 int sint64 VARINT | 4 bool VARINT | 5 null VARINT (oneof)
 *
 * The object has every field, proto3 defaults filled ('' / 0 / false), so that all decoded messages
 * share one shape; `priority` stays undefined when absent (explicit presence: absent means 4). `body` is
 * a view of the frame, not a copy. `properties` has no prototype (a key such as `__proto__` is just a
 * key). Unknown fields are skipped; a known field with another wire type, or a message overrunning its
 * length, fails with the reader's own error (each side's PROTOCOL error).
 *
 * Import-free beyond util/protobuf-wire.ts, so the client may use it (docs/ARCHITECTURE.md).
 */
import { StringCache, tagOf, type WireReader, WT_I64, WT_LEN, WT_VARINT } from './protobuf-wire.js';

/** A property value as the wire carries it (the Value oneof). */
export type WireValue =
  | { string_value: string }
  | { double_value: number }
  | { int_value: number }
  | { bool_value: boolean }
  | { null_value: true };

export interface DecodedMessage {
  address: string;
  /** A view into the received frame (zero-copy). */
  body: Uint8Array;
  persistent: boolean;
  /** Absent on the wire = undefined (the .proto's `optional`); readers then use 4. */
  priority: number | undefined;
  expiration: number;
  correlation_id: string;
  reply_to: string;
  group_id: string;
  content_type: string;
  properties: Record<string, WireValue>;
  time_to_live_ms: number;
  id: string;
  timestamp: number;
  original_address: string;
}

/** The tags (field number and wire type) of Message's fields and of its Value and map entry, for the encoders. */
export const MESSAGE_TAG = Object.freeze({
  address: tagOf(1, WT_LEN),
  body: tagOf(2, WT_LEN),
  persistent: tagOf(3, WT_VARINT),
  priority: tagOf(4, WT_VARINT),
  expiration: tagOf(5, WT_VARINT),
  correlationId: tagOf(6, WT_LEN),
  replyTo: tagOf(7, WT_LEN),
  groupId: tagOf(8, WT_LEN),
  contentType: tagOf(9, WT_LEN),
  property: tagOf(10, WT_LEN),
  timeToLive: tagOf(11, WT_VARINT),
  id: tagOf(12, WT_LEN),
  timestamp: tagOf(13, WT_VARINT),
  originalAddress: tagOf(14, WT_LEN),
  entryKey: tagOf(1, WT_LEN),
  entryValue: tagOf(2, WT_LEN),
  string: tagOf(1, WT_LEN),
  double: tagOf(2, WT_I64),
  int: tagOf(3, WT_VARINT),
  bool: tagOf(4, WT_VARINT),
  null: tagOf(5, WT_VARINT),
});

const EMPTY_BODY = new Uint8Array(0);

/** Fields that repeat from one message to the next (a queue's address): decoded once per change. */
const ADDRESS = new StringCache();
const CONTENT_TYPE = new StringCache();

/** Shared by every message without properties; replaced, never mutated, at the first entry. */
export const NO_PROPERTIES: Record<string, WireValue> = Object.freeze(Object.create(null)) as Record<
  string,
  WireValue
>;

/** A map entry without a value is the Value default, no kind set: read as null (as protobufjs: `{}`). */
const NULL_VALUE: WireValue = Object.freeze({ null_value: true });

/** A Message with every field at its proto3 default (what an absent or empty message decodes to). */
export function emptyMessage(): DecodedMessage {
  return {
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
}

/** Decodes the Message occupying r.pos..end. */
export function decodeMessage(r: WireReader, end: number): DecodedMessage {
  const m = emptyMessage();
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, WT_LEN, 'Message.address');
        m.address = r.internedString(ADDRESS);
        break;
      case 2:
        r.expect(wt, WT_LEN, 'Message.body');
        m.body = r.bytes();
        break;
      case 3:
        r.expect(wt, WT_VARINT, 'Message.persistent');
        m.persistent = r.bool();
        break;
      case 4:
        r.expect(wt, WT_VARINT, 'Message.priority');
        m.priority = r.uint32();
        break;
      case 5:
        r.expect(wt, WT_VARINT, 'Message.expiration');
        m.expiration = r.uint64();
        break;
      case 6:
        r.expect(wt, WT_LEN, 'Message.correlation_id');
        m.correlation_id = r.string();
        break;
      case 7:
        r.expect(wt, WT_LEN, 'Message.reply_to');
        m.reply_to = r.string();
        break;
      case 8:
        r.expect(wt, WT_LEN, 'Message.group_id');
        m.group_id = r.string();
        break;
      case 9:
        r.expect(wt, WT_LEN, 'Message.content_type');
        m.content_type = r.internedString(CONTENT_TYPE);
        break;
      case 10:
        r.expect(wt, WT_LEN, 'Message.properties');
        if (m.properties === NO_PROPERTIES) m.properties = Object.create(null) as Record<string, WireValue>;
        decodeEntry(r, m.properties);
        break;
      case 11:
        r.expect(wt, WT_VARINT, 'Message.time_to_live_ms');
        m.time_to_live_ms = r.uint64();
        break;
      case 12:
        r.expect(wt, WT_LEN, 'Message.id');
        m.id = r.string();
        break;
      case 13:
        r.expect(wt, WT_VARINT, 'Message.timestamp');
        m.timestamp = r.uint64();
        break;
      case 14:
        r.expect(wt, WT_LEN, 'Message.original_address');
        m.original_address = r.string();
        break;
      default:
        r.skip(wt);
    }
  }
  if (r.pos !== end) throw r.error('Message overruns its length');
  r.end = outer;
  return m;
}

function decodeEntry(r: WireReader, into: Record<string, WireValue>): void {
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
        r.expect(wt, WT_LEN, 'Message.properties key');
        key = r.string();
        break;
      case 2:
        r.expect(wt, WT_LEN, 'Message.properties value');
        value = decodeValue(r);
        break;
      default:
        r.skip(wt);
    }
  }
  r.end = outer;
  into[key] = value;
}

/** The Value oneof: the last member on the wire wins (proto3); none set reads as null. */
function decodeValue(r: WireReader): WireValue {
  const end = r.lenEnd();
  const outer = r.end;
  r.end = end;
  let value: WireValue = NULL_VALUE;
  while (r.pos < end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        r.expect(wt, WT_LEN, 'Value.string_value');
        value = { string_value: r.string() };
        break;
      case 2:
        r.expect(wt, WT_I64, 'Value.double_value');
        value = { double_value: r.double() };
        break;
      case 3:
        r.expect(wt, WT_VARINT, 'Value.int_value');
        value = { int_value: r.sint64() };
        break;
      case 4:
        r.expect(wt, WT_VARINT, 'Value.bool_value');
        value = { bool_value: r.bool() };
        break;
      case 5:
        r.expect(wt, WT_VARINT, 'Value.null_value');
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
