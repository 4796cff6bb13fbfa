/**
 * Codec for `blaze.v1.Bundle` (proto/blaze/v1/transport.proto): one datagram carrying the sender's
 * address and one or more payloads. The writer appends payloads straight into the datagram buffer as
 * they are queued, so the transport knows at each step whether the next payload still fits; protobufjs
 * would need the whole list first and a second copy. Bytes are identical to protobufjs' (tested).
 *
 *   0x0a <len> sender-bytes            field 1, wire type 2
 *   0x12 <len> payload-bytes           field 2, wire type 2, repeated
 *   0x18 <varint> incarnation          field 3, wire type 0, after the payloads (absent when 0)
 *
 * The incarnation comes last so that the datagram is still written front to back in field order (the
 * canonical encoding protobufjs produces): the writer keeps room for it and appends it in `take()`.
 */
import { tag, varintSize, WireReader, WT_LEN, WT_VARINT, writeVarint } from './wire.js';

const SENDER_TAG = tag(1, WT_LEN);
const PAYLOAD_TAG = tag(2, WT_LEN);
const INCARNATION_TAG = tag(3, WT_VARINT);
const EMPTY = new Uint8Array(0);

/** Longest sender address accepted from the wire: "[" + 45-char IPv6 + "]:" + 5-digit port, rounded up. */
export const MAX_SENDER_LENGTH = 64;

/** Bytes a payload of `len` bytes takes in a bundle, framing included. */
export function payloadFrameSize(len: number): number {
  return 1 + varintSize(len) + len;
}

/** The encoded sender field that starts every bundle from one endpoint. */
export function encodeSenderHeader(sender: string): Uint8Array {
  const bytes = Buffer.from(sender, 'utf8');
  const out = new Uint8Array(1 + varintSize(bytes.length) + bytes.length);
  out.set(bytes, writeVarint(out, writeVarint(out, 0, SENDER_TAG), bytes.length));
  return out;
}

/** The encoded incarnation field that ends every bundle from one endpoint (empty for 0). */
export function encodeIncarnationTrailer(incarnation: number): Uint8Array {
  if (!Number.isSafeInteger(incarnation) || incarnation < 0) {
    throw new RangeError(`incarnation must be a non-negative safe integer: ${incarnation}`);
  }
  if (incarnation === 0) return EMPTY;
  const out = new Uint8Array(1 + varintSize(incarnation));
  writeVarint(out, writeVarint(out, 0, INCARNATION_TAG), incarnation);
  return out;
}

/**
 * Largest payload that fits alone in a datagram of `maxDatagram` bytes between `header` and `trailer`.
 * A payload's length prefix grows with its length, so the answer is found by stepping down from the
 * naive bound.
 */
export function maxPayloadFor(header: Uint8Array, maxDatagram: number, trailer: Uint8Array = EMPTY): number {
  const fixed = header.length + trailer.length;
  let n = maxDatagram - fixed - 1;
  while (n > 0 && fixed + payloadFrameSize(n) > maxDatagram) n--;
  return n;
}

/**
 * Accumulates one datagram. Two size limits: `maxDatagram` bounds every datagram, and `smallDatagram`
 * (at most maxDatagram) bounds any datagram that carries a *small* payload, one of at most a quarter of
 * smallDatagram. With smallDatagram at the path MTU, small messages are never IP-fragmented (a lost
 * fragment loses every message bundled with them) while large ones, which fill MTU-sized datagrams badly
 * (one 1 KiB message per 1472 bytes) or need fragmenting anyway, share big datagrams: the kernel cuts
 * those into full MTU packets, and the per-packet cost is what bounds throughput in the lab.
 * Not reusable after `take()` hands the bytes to the socket.
 */
export class BundleWriter {
  private buf: Buffer | undefined;
  private pos = 0;
  private hasSmall = false;
  private readonly smallDatagram: number;
  private readonly smallPayload: number;
  /** Payloads in the current datagram. */
  count = 0;

  constructor(
    private readonly header: Uint8Array,
    private readonly maxDatagram: number,
    smallDatagram = maxDatagram,
    private readonly trailer: Uint8Array = EMPTY,
  ) {
    this.smallDatagram = Math.min(smallDatagram, maxDatagram);
    this.smallPayload = this.smallDatagram >> 2;
  }

  /** Whether a payload of `len` bytes still fits in the current datagram. */
  fits(len: number): boolean {
    const used = (this.buf ? this.pos : this.header.length) + this.trailer.length;
    const limit = this.hasSmall || len <= this.smallPayload ? this.smallDatagram : this.maxDatagram;
    return used + payloadFrameSize(len) <= limit;
  }

  /** Caller checks `fits` first; the payload is copied, so the caller may reuse its buffer. */
  add(payload: Uint8Array): void {
    this.addParts(payload, EMPTY, EMPTY);
  }

  /** Adds one payload given as head + body + tail (copied in place); caller checks `fits` first. */
  addParts(head: Uint8Array, body: Uint8Array, tail: Uint8Array): void {
    const len = head.length + body.length + tail.length;
    let buf = this.buf;
    if (!buf) {
      // Below 4 KiB allocUnsafe carves from Node's shared pool: no allocation per datagram.
      buf = this.buf = Buffer.allocUnsafe(len <= this.smallPayload ? this.smallDatagram : this.maxDatagram);
      buf.set(this.header, 0);
      this.pos = this.header.length;
    }
    let pos = writeVarint(buf, writeVarint(buf, this.pos, PAYLOAD_TAG), len);
    buf.set(head, pos);
    pos += head.length;
    if (body.length > 0) buf.set(body, pos);
    pos += body.length;
    if (tail.length > 0) buf.set(tail, pos);
    pos += tail.length;
    this.pos = pos;
    this.count++;
    if (len <= this.smallPayload) this.hasSmall = true;
  }

  /** The finished datagram, or undefined when empty; the writer starts a fresh buffer afterwards. */
  take(): Buffer | undefined {
    const buf = this.buf;
    if (!buf) return undefined;
    // Room for the trailer was kept by `fits`.
    buf.set(this.trailer, this.pos);
    const out = buf.subarray(0, this.pos + this.trailer.length);
    this.buf = undefined;
    this.pos = 0;
    this.count = 0;
    this.hasSmall = false;
    return out;
  }
}

export interface DecodedBundle {
  sender: string;
  /** 0 when the sender did not tell. */
  incarnation: number;
  /** Views into the datagram (no copy). */
  payloads: Uint8Array[];
}

/**
 * Decodes one datagram, or returns undefined if it is not a well-formed bundle: truncated fields,
 * deprecated group wire types, no sender, a sender that is not a plausible address, or no payload.
 * Unknown fields are skipped (proto3 forward compatibility).
 */
export function decodeBundle(buf: Uint8Array): DecodedBundle | undefined {
  const r = new WireReader(buf);
  let sender: string | undefined;
  let incarnation = 0;
  const payloads: Uint8Array[] = [];
  while (r.pos < r.end) {
    const key = r.readVarint();
    if (key < 0) return undefined;
    const wireType = key & 7;
    const field = Math.floor(key / 8);
    if ((field === 1 || field === 2) && wireType === WT_LEN) {
      const len = r.readVarint();
      if (len < 0 || len > r.end - r.pos) return undefined;
      if (field === 1) {
        sender = readAddress(buf, r.pos, len);
        if (sender === undefined) return undefined;
      } else {
        payloads.push(buf.subarray(r.pos, r.pos + len));
      }
      r.pos += len;
    } else if (field === 3 && wireType === WT_VARINT) {
      incarnation = r.readVarint();
      if (incarnation < 0) return undefined;
    } else if (field === 0 || !r.skip(wireType)) {
      return undefined;
    }
  }
  if (sender === undefined || payloads.length === 0) return undefined;
  return { sender, incarnation, payloads };
}

/** Addresses are ASCII `host:port`; anything else (control bytes, UTF-8) marks a foreign datagram. */
function readAddress(buf: Uint8Array, start: number, len: number): string | undefined {
  if (len === 0 || len > MAX_SENDER_LENGTH) return undefined;
  let s = '';
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c <= 0x20 || c >= 0x7f) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}
