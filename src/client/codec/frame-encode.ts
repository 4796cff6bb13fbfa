/**
 * The frames a client sends per message, encoded by hand, length prefix included, in one allocation:
 * Send, SendBatch (publishing), Ack, Credit, Nack (consuming). Byte-identical to protobufjs' encoding of
 * the same objects (test/unit/client/hot-codec.test.ts); every other frame stays on protobufjs (codec.ts).
 *
 *   Frame.send       0x52       Send      1 request_id | 2 message | 3 tx_id | 4 producer_id | 5 sequence
 *                                         | 6 want_ids
 *   Frame.send_batch 0x5a       SendBatch 1 request_id | 2 messages (repeated) | 3 tx_id | 4 producer_id
 *                                         | 5 first_sequence | 6 want_ids
 *   Frame.credit     0xba 0x01  Credit    1 subscription_id | 2 credit
 *   Frame.ack        0xca 0x01  Ack       1 request_id | 2 subscription_id | 3 tags (packed) | 4 up_to | 5 tx_id
 *   Frame.nack       0xd2 0x01  Nack      1 request_id | 2 subscription_id | 3 tags (packed) | 4 tx_id
 *
 * proto3 defaults (0, '', false, no tags) are not written; a Send's message is written when present, even
 * empty. Why by hand: protobufjs' encode of a Send (reflection, a Writer and its operation list per
 * frame) was ~20 % of a producer's CPU (docs/CLIENT.md "Performance").
 */
import type { Ack, Nack, Send, SendBatch, WireMessage } from './frames.js';
import { messageSize, writeMessage } from './message-encode.js';
import {
  allocFrame,
  HEADER_BYTES,
  stringFieldSize,
  tagOf,
  varFieldSize,
  varintSize,
  WT_LEN,
  WT_VARINT,
  writeLengthPrefix,
  writeStringField,
  writeVarField,
  writeVarint,
} from './writer.js';

/** Frame oneof field numbers (native.proto `Frame.kind`). */
export const FRAME_FIELD = { ok: 5, send: 10, send_batch: 11, credit: 23, deliver: 24, ack: 25, nack: 26 };

const T1 = tagOf(1, WT_VARINT);
const T2_VARINT = tagOf(2, WT_VARINT);
const T2_LEN = tagOf(2, WT_LEN);
const T3_LEN = tagOf(3, WT_LEN);
const T4_VARINT = tagOf(4, WT_VARINT);
const T4_LEN = tagOf(4, WT_LEN);
const T5_VARINT = tagOf(5, WT_VARINT);
const T5_LEN = tagOf(5, WT_LEN);
const T6_VARINT = tagOf(6, WT_VARINT);

/** Where the body of the frame being written starts (set by startFrame). */
let bodyAt = 0;

/** A buffer for a whole frame of oneof member `field` with a body of `inner` bytes; header written. */
function startFrame(field: number, inner: number): Uint8Array {
  const kindTag = tagOf(field, WT_LEN);
  const size = varintSize(kindTag) + varintSize(inner) + inner;
  const out = allocFrame(HEADER_BYTES + size);
  writeLengthPrefix(out, size);
  bodyAt = writeVarint(out, writeVarint(out, HEADER_BYTES, kindTag), inner);
  return out;
}

/** A frame encoder that disagrees with its own size computation is a bug, not a peer's fault. */
function checkEnd(out: Uint8Array, p: number, kind: string): Uint8Array {
  if (p !== out.length) throw new Error(`${kind} encoder wrote ${p} of ${out.length} bytes`);
  return out;
}

export function encodeSend(f: Send): Uint8Array {
  return encodeSendOf(f.request_id, f.message, f.tx_id, f.producer_id, f.sequence, f.want_ids);
}

/** encodeSend with the fields as arguments: no Send object for a publish (the hot path). */
export function encodeSendOf(
  requestId: number | undefined,
  message: WireMessage | undefined,
  txId: string | undefined,
  producerId: string | undefined,
  sequence: number | undefined,
  wantIds: boolean | undefined,
): Uint8Array {
  const ms = message === undefined || message === null ? -1 : messageSize(message);
  const inner =
    varFieldSize(requestId) +
    (ms < 0 ? 0 : 1 + varintSize(ms) + ms) +
    stringFieldSize(txId) +
    stringFieldSize(producerId) +
    varFieldSize(sequence) +
    (wantIds ? 2 : 0);
  const out = startFrame(FRAME_FIELD.send, inner);
  let p = writeVarField(out, bodyAt, T1, requestId);
  if (ms >= 0) {
    out[p++] = T2_LEN;
    p = writeVarint(out, p, ms);
    p = writeMessage(out, p, message!);
  }
  p = writeStringField(out, p, T3_LEN, txId);
  p = writeStringField(out, p, T4_LEN, producerId);
  p = writeVarField(out, p, T5_VARINT, sequence);
  if (wantIds) {
    out[p++] = T6_VARINT;
    out[p++] = 1;
  }
  return checkEnd(out, p, 'Send');
}

export function encodeSendBatch(f: SendBatch): Uint8Array {
  const messages: readonly WireMessage[] = f.messages ?? [];
  const sizes = messages.map(messageSize);
  let inner =
    varFieldSize(f.request_id) +
    stringFieldSize(f.tx_id) +
    stringFieldSize(f.producer_id) +
    varFieldSize(f.first_sequence) +
    (f.want_ids ? 2 : 0);
  for (const s of sizes) inner += 1 + varintSize(s) + s;
  const out = startFrame(FRAME_FIELD.send_batch, inner);
  let p = writeVarField(out, bodyAt, T1, f.request_id);
  for (let i = 0; i < messages.length; i++) {
    out[p++] = T2_LEN;
    p = writeVarint(out, p, sizes[i]!);
    p = writeMessage(out, p, messages[i]!);
  }
  p = writeStringField(out, p, T3_LEN, f.tx_id);
  p = writeStringField(out, p, T4_LEN, f.producer_id);
  p = writeVarField(out, p, T5_VARINT, f.first_sequence);
  if (f.want_ids) {
    out[p++] = T6_VARINT;
    out[p++] = 1;
  }
  return checkEnd(out, p, 'SendBatch');
}

export function encodeCredit(subscriptionId: number | undefined, credit: number | undefined): Uint8Array {
  const out = startFrame(FRAME_FIELD.credit, varFieldSize(subscriptionId) + varFieldSize(credit));
  const p = writeVarField(out, writeVarField(out, bodyAt, T1, subscriptionId), T2_VARINT, credit);
  return checkEnd(out, p, 'Credit');
}

function tagsSize(tags: readonly number[]): number {
  let n = 0;
  for (const t of tags) n += varintSize(t);
  return n;
}

/** `repeated uint64 tags = 3`, packed (proto3's default for scalars): one LEN field of varints. */
function writeTags(out: Uint8Array, p: number, tags: readonly number[], packed: number): number {
  if (tags.length === 0) return p;
  out[p++] = T3_LEN;
  p = writeVarint(out, p, packed);
  for (const t of tags) p = writeVarint(out, p, t);
  return p;
}

const tagsField = (packed: number, count: number): number =>
  count === 0 ? 0 : 1 + varintSize(packed) + packed;

export function encodeAck(f: Ack): Uint8Array {
  const tags = f.tags ?? [];
  const packed = tagsSize(tags);
  const inner =
    varFieldSize(f.request_id) +
    varFieldSize(f.subscription_id) +
    tagsField(packed, tags.length) +
    varFieldSize(f.up_to) +
    stringFieldSize(f.tx_id);
  const out = startFrame(FRAME_FIELD.ack, inner);
  let p = writeVarField(out, bodyAt, T1, f.request_id);
  p = writeVarField(out, p, T2_VARINT, f.subscription_id);
  p = writeTags(out, p, tags, packed);
  p = writeVarField(out, p, T4_VARINT, f.up_to);
  p = writeStringField(out, p, T5_LEN, f.tx_id);
  return checkEnd(out, p, 'Ack');
}

export function encodeNack(f: Nack): Uint8Array {
  const tags = f.tags ?? [];
  const packed = tagsSize(tags);
  const inner =
    varFieldSize(f.request_id) +
    varFieldSize(f.subscription_id) +
    tagsField(packed, tags.length) +
    stringFieldSize(f.tx_id);
  const out = startFrame(FRAME_FIELD.nack, inner);
  let p = writeVarField(out, bodyAt, T1, f.request_id);
  p = writeVarField(out, p, T2_VARINT, f.subscription_id);
  p = writeTags(out, p, tags, packed);
  p = writeStringField(out, p, T4_LEN, f.tx_id);
  return checkEnd(out, p, 'Nack');
}
