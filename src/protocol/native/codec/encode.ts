/**
 * Frames the broker sends, each returned with its 4-byte length prefix, ready for `Transport.write`.
 *
 * Hot: `Ok` and `Deliver` are written by hand (DeliverBuilder batches every delivery of a turn into one
 * frame and one buffer). Cold: everything else goes through protobufjs from plain objects.
 *
 *   Frame.ok       tag 0x2a (field 5, LEN)        Ok      0x08 request_id
 *   Frame.deliver  tag 0xc2 0x01 (field 24, LEN)  Deliver 0x0a <len> Delivery, repeated
 *   Delivery       0x08 subscription_id | 0x10 tag | 0x1a <len> Message | 0x20 redelivered | 0x28 count
 */
import type protobuf from 'protobufjs';
import type { Message } from '../../../core/message.js';
import { loadProto } from '../../../util/proto.js';
import { LENGTH_PREFIX, writeLength } from './framing.js';
import { messageSize, writeMessage } from './message.js';
import { FIELD, type FrameKind } from './types.js';
import { tagOf, varintSize, WT_LEN, WT_VARINT, writeVarint } from './wire.js';

let frameType: protobuf.Type | undefined;

function frameTypeOf(): protobuf.Type {
  frameType ??= loadProto('blaze/v1/native.proto').lookupType('blaze.v1.Frame');
  return frameType;
}

/** Any frame from a plain object with the .proto's field names, e.g. `encodeFrame('subscribed', {...})`. */
export function encodeFrame(kind: FrameKind, value: object): Buffer {
  const body = frameTypeOf()
    .encode({ [kind]: value })
    .finish();
  const out = Buffer.allocUnsafe(LENGTH_PREFIX + body.length);
  writeLength(out, 0, body.length);
  out.set(body, LENGTH_PREFIX);
  return out;
}

const OK_TAG = tagOf(FIELD.ok, WT_LEN);

/** `Ok{request_id}`: the most frequent reply (every acknowledged Send and Ack). */
export function encodeOk(requestId: number): Buffer {
  const inner = requestId === 0 ? 0 : 1 + varintSize(requestId);
  const size = 2 + inner;
  const out = Buffer.allocUnsafe(LENGTH_PREFIX + size);
  writeLength(out, 0, size);
  out[4] = OK_TAG;
  out[5] = inner;
  if (inner > 0) {
    out[6] = tagOf(1, WT_VARINT);
    writeVarint(out, 7, requestId);
  }
  return out;
}

/** `Heartbeat{}`: constant. */
export const HEARTBEAT_FRAME: Uint8Array = new Uint8Array([0, 0, 0, 2, tagOf(FIELD.heartbeat, WT_LEN), 0]);

export interface ErrorInfo {
  request_id: number;
  code: string;
  message: string;
  fatal: boolean;
}

export function encodeError(e: ErrorInfo): Buffer {
  return encodeFrame('error', e);
}

const DELIVER_TAG_SIZE = varintSize(tagOf(FIELD.deliver, WT_LEN));
const DELIVERY_TAG = tagOf(1, WT_LEN);

/**
 * Deliveries of one Deliver frame. `add` records what to write and its size; `finish` writes the frame
 * into one buffer, each message encoded straight into it. A message delivered again right after (topic
 * fan-out: one Message to every subscriber in turn) is copied from where it was last written instead of
 * being encoded again.
 */
export class DeliverBuilder {
  private readonly subs: number[] = [];
  private readonly tags: number[] = [];
  private readonly messages: Message[] = [];
  private readonly sizes: number[] = [];
  private readonly counts: number[] = [];
  private readonly redelivered: boolean[] = [];
  private contentSize = 0;

  get count(): number {
    return this.subs.length;
  }

  /** Bytes of the frame if `finish` ran now, length prefix included. */
  get frameSize(): number {
    if (this.subs.length === 0) return 0;
    return LENGTH_PREFIX + DELIVER_TAG_SIZE + varintSize(this.contentSize) + this.contentSize;
  }

  /** Adds a delivery; returns the frame size with it (length prefix included). */
  add(subscriptionId: number, tag: number, message: Message, redelivered: boolean, count: number): number {
    const size = messageSize(message);
    this.subs.push(subscriptionId);
    this.tags.push(tag);
    this.messages.push(message);
    this.sizes.push(size);
    this.redelivered.push(redelivered);
    this.counts.push(count);
    const inner = deliveryInner(subscriptionId, tag, size, redelivered, count);
    this.contentSize += 1 + varintSize(inner) + inner;
    return this.frameSize;
  }

  /** The whole Deliver frame, length prefix included; the builder is empty afterwards. */
  finish(): Buffer {
    const content = this.contentSize;
    const size = DELIVER_TAG_SIZE + varintSize(content) + content;
    const out = Buffer.allocUnsafe(LENGTH_PREFIX + size);
    writeLength(out, 0, size);
    let p = writeVarint(out, LENGTH_PREFIX, tagOf(FIELD.deliver, WT_LEN));
    p = writeVarint(out, p, content);
    const n = this.subs.length;
    for (let i = 0; i < n; i++) {
      const sub = this.subs[i]!;
      const tag = this.tags[i]!;
      const msg = this.messages[i]!;
      const len = this.sizes[i]!;
      const red = this.redelivered[i]!;
      const count = this.counts[i]!;
      out[p++] = DELIVERY_TAG;
      p = writeVarint(out, p, deliveryInner(sub, tag, len, red, count));
      if (sub !== 0) {
        out[p++] = 0x08;
        p = writeVarint(out, p, sub);
      }
      if (tag !== 0) {
        out[p++] = 0x10;
        p = writeVarint(out, p, tag);
      }
      out[p++] = 0x1a;
      p = writeVarint(out, p, len);
      if (msg === lastWritten && lastWrittenIn !== undefined) {
        out.set(lastWrittenIn.subarray(lastWrittenAt, lastWrittenAt + len), p);
        p += len;
      } else {
        lastWrittenAt = p;
        p = writeMessage(out, p, msg);
        lastWritten = msg;
        lastWrittenIn = out;
      }
      if (red) {
        out[p++] = 0x20;
        out[p++] = 1;
      }
      if (count !== 0) {
        out[p++] = 0x28;
        p = writeVarint(out, p, count);
      }
    }
    this.clear();
    if (p !== out.length) throw new Error(`Deliver encoder wrote ${p} of ${out.length} bytes`);
    return out;
  }

  clear(): void {
    this.subs.length = 0;
    this.tags.length = 0;
    this.messages.length = 0;
    this.sizes.length = 0;
    this.redelivered.length = 0;
    this.counts.length = 0;
    this.contentSize = 0;
  }
}

/** Where the last message written by any builder is: frames are immutable once finished. */
let lastWritten: Message | undefined;
let lastWrittenIn: Buffer | undefined;
let lastWrittenAt = 0;

function deliveryInner(sub: number, tag: number, msgLen: number, red: boolean, count: number): number {
  let n = 1 + varintSize(msgLen) + msgLen;
  if (sub !== 0) n += 1 + varintSize(sub);
  if (tag !== 0) n += 1 + varintSize(tag);
  if (red) n += 2;
  if (count !== 0) n += 1 + varintSize(count);
  return n;
}

/** `BrowseResult{request_id, messages}`, messages written by the hand encoder (message.ts). */
export function encodeBrowseResult(requestId: number, messages: readonly Message[]): Buffer {
  let content = requestId === 0 ? 0 : 1 + varintSize(requestId);
  const sizes = messages.map((m) => messageSize(m));
  for (const s of sizes) content += 1 + varintSize(s) + s;
  const size = varintSize(tagOf(FIELD.browse_result, WT_LEN)) + varintSize(content) + content;
  const out = Buffer.allocUnsafe(LENGTH_PREFIX + size);
  writeLength(out, 0, size);
  let p = writeVarint(out, LENGTH_PREFIX, tagOf(FIELD.browse_result, WT_LEN));
  p = writeVarint(out, p, content);
  if (requestId !== 0) {
    out[p++] = 0x08;
    p = writeVarint(out, p, requestId);
  }
  for (let i = 0; i < messages.length; i++) {
    out[p++] = 0x12;
    p = writeVarint(out, p, sizes[i]!);
    p = writeMessage(out, p, messages[i]!);
  }
  return out;
}
