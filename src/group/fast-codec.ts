/**
 * Hand-written codecs for the two messages on the hot path of every multicast, byte-compatible with
 * protobufjs (proto/blaze/v1/group.proto; tested both ways): a GroupFrame carrying McastData, and a
 * ChannelMessage that is only a kind and a body (broadcasts and direct messages). protobufjs' reflection
 * decode plus `toObject` cost more than the rest of a member's receive path; these do one pass, no
 * intermediate objects, and leave payloads as views into the datagram. Anything else (other kinds,
 * unexpected fields, malformed input) returns undefined and the caller falls back to protobufjs, which
 * stays the reference decoder.
 *
 *   GroupFrame   0x0a <len> group-utf8        field 1 (string)
 *                0x52 <len> McastData         field 10
 *   McastData    0x08 seq | 0x10 view | 0x1a <len> payload | 0x22 <len> sender | 0x28 retransmit
 *   ChannelMessage 0x08 kind | 0x22 <len> body   (fields 2, 3, 5, 6 absent)
 *
 * Encoders write proto3's canonical form (default values omitted), which protobufjs decodes identically.
 */
import { tag, varintSize, WireReader, WT_LEN, WT_VARINT, writeVarint } from './transport/wire.js';
import type { ChannelMessage, McastData } from './wire.js';

const GROUP_TAG = tag(1, WT_LEN);
const DATA_TAG = tag(10, WT_LEN);
const SEQ_TAG = tag(1, WT_VARINT);
const VIEW_TAG = tag(2, WT_VARINT);
const PAYLOAD_TAG = tag(3, WT_LEN);
const SENDER_TAG = tag(4, WT_LEN);
const RETRANSMIT_TAG = tag(5, WT_VARINT);
const KIND_TAG = tag(1, WT_VARINT);
const BODY_TAG = tag(4, WT_LEN);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Field 1 of a GroupFrame, encoded once per group name. */
export class GroupHeader {
  readonly bytes: Uint8Array;
  /** The name's UTF-8 bytes, compared in place against incoming frames. */
  readonly name: Uint8Array;

  constructor(readonly group: string) {
    this.name = encoder.encode(group);
    this.bytes = new Uint8Array(1 + varintSize(this.name.length) + this.name.length);
    this.bytes.set(
      this.name,
      writeVarint(this.bytes, writeVarint(this.bytes, 0, GROUP_TAG), this.name.length),
    );
  }
}

function lenField(len: number): number {
  return 1 + varintSize(len) + len;
}

export function encodeDataFrame(h: GroupHeader, d: McastData): Uint8Array {
  const { head, tail } = encodeDataFrameParts(h, d);
  const out = Buffer.allocUnsafe(head.length + d.payload.length + tail.length);
  out.set(head, 0);
  out.set(d.payload, head.length);
  out.set(tail, head.length + d.payload.length);
  return out;
}

/**
 * A data frame as the bytes before and after its payload, so that a transport can copy the payload
 * straight into its datagram (`GroupTransport.multicastParts`): head + payload + tail is the frame.
 */
export function encodeDataFrameParts(h: GroupHeader, d: McastData): { head: Uint8Array; tail: Uint8Array } {
  const sender = d.sender ? encoder.encode(d.sender) : undefined;
  let tailLen = 0;
  if (sender) tailLen += lenField(sender.length);
  if (d.retransmit) tailLen += 2;
  let inner = lenField(d.payload.length) + tailLen;
  if (d.seq) inner += 1 + varintSize(d.seq);
  if (d.view) inner += 1 + varintSize(d.view);
  // Group field, data tag and length, then seq, view and the payload's tag and length.
  const headLen = h.bytes.length + 1 + varintSize(inner) + (inner - tailLen - d.payload.length);
  // Every byte is written below; allocUnsafe carves small buffers from a pool (no zeroing, no malloc).
  const head = Buffer.allocUnsafe(headLen);
  head.set(h.bytes, 0);
  let p = writeVarint(head, writeVarint(head, h.bytes.length, DATA_TAG), inner);
  if (d.seq) p = writeVarint(head, writeVarint(head, p, SEQ_TAG), d.seq);
  if (d.view) p = writeVarint(head, writeVarint(head, p, VIEW_TAG), d.view);
  writeVarint(head, writeVarint(head, p, PAYLOAD_TAG), d.payload.length);
  if (tailLen === 0) return { head, tail: EMPTY };
  const tail = Buffer.allocUnsafe(tailLen);
  p = 0;
  if (sender) {
    p = writeVarint(tail, writeVarint(tail, p, SENDER_TAG), sender.length);
    tail.set(sender, p);
    p += sender.length;
  }
  if (d.retransmit) {
    tail[p++] = RETRANSMIT_TAG;
    tail[p++] = 1;
  }
  return { head, tail };
}

export type FastFrame = { kind: 'foreign' } | { kind: 'data'; body: McastData } | undefined;

/**
 * `foreign`: a well-formed start naming another group (dropped by the caller). `data`: a McastData frame
 * of this group. undefined: not handled here, decode with protobufjs.
 */
export function decodeDataFrame(h: GroupHeader, buf: Uint8Array): FastFrame {
  const r = new WireReader(buf);
  if (r.readVarint() !== GROUP_TAG) return undefined;
  const len = r.readVarint();
  if (len < 0 || len > r.end - r.pos) return undefined;
  const name = h.name;
  if (len !== name.length) return { kind: 'foreign' };
  for (let i = 0; i < len; i++) if (buf[r.pos + i] !== name[i]) return { kind: 'foreign' };
  r.pos += len;
  if (r.readVarint() !== DATA_TAG) return undefined;
  const inner = r.readVarint();
  // The McastData must end the frame exactly: trailing fields go to the reference decoder.
  if (inner < 0 || inner !== r.end - r.pos) return undefined;
  const d: McastData = { seq: 0, view: 0, payload: EMPTY, sender: '', retransmit: false };
  while (r.pos < r.end) {
    const key = r.readVarint();
    switch (key) {
      case SEQ_TAG:
        d.seq = r.readVarint();
        if (d.seq < 0) return undefined;
        break;
      case VIEW_TAG:
        d.view = r.readVarint();
        if (d.view < 0) return undefined;
        break;
      case PAYLOAD_TAG: {
        const n = r.readVarint();
        if (n < 0 || n > r.end - r.pos) return undefined;
        d.payload = buf.subarray(r.pos, r.pos + n);
        r.pos += n;
        break;
      }
      case SENDER_TAG: {
        const n = r.readVarint();
        if (n < 0 || n > r.end - r.pos) return undefined;
        d.sender = decoder.decode(buf.subarray(r.pos, r.pos + n));
        r.pos += n;
        break;
      }
      case RETRANSMIT_TAG: {
        const v = r.readVarint();
        if (v < 0) return undefined;
        d.retransmit = v !== 0;
        break;
      }
      default:
        return undefined;
    }
  }
  return { kind: 'data', body: d };
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** Only a kind and a body (name, id, names, reject at their defaults), else undefined. */
export function encodeSimpleChannelMessage(
  m: Partial<ChannelMessage> & { kind: number },
): Uint8Array | undefined {
  if (m.name || m.id || m.names?.length || m.reject) return undefined;
  const body = m.body ?? EMPTY;
  const out = Buffer.allocUnsafe(
    (m.kind ? 1 + varintSize(m.kind) : 0) + (body.length ? lenField(body.length) : 0),
  );
  let p = 0;
  if (m.kind) p = writeVarint(out, writeVarint(out, p, KIND_TAG), m.kind);
  if (body.length) {
    p = writeVarint(out, writeVarint(out, p, BODY_TAG), body.length);
    out.set(body, p);
  }
  return out;
}

/** A ChannelMessage with no fields but kind and body, else undefined (decode it with protobufjs). */
export function decodeSimpleChannelMessage(buf: Uint8Array): ChannelMessage | undefined {
  const r = new WireReader(buf);
  let kind = 0;
  let body: Uint8Array = EMPTY;
  while (r.pos < r.end) {
    const key = r.readVarint();
    if (key === KIND_TAG) {
      kind = r.readVarint();
      if (kind < 0) return undefined;
    } else if (key === BODY_TAG) {
      const n = r.readVarint();
      if (n < 0 || n > r.end - r.pos) return undefined;
      body = buf.subarray(r.pos, r.pos + n);
      r.pos += n;
    } else return undefined;
  }
  return { kind: kind as ChannelMessage['kind'], name: '', id: 0, body, names: [], reject: false };
}
