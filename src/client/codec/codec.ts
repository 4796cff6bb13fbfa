/**
 * Native protocol framing (proto/blaze/v1/native.proto header): a 4-byte big-endian length N, then N
 * bytes of one encoded `Frame`; the length excludes itself. Pure: bytes in, frames out, no I/O, no timers.
 *
 * Two codecs behind one pair of functions: the frames sent or received once per message (Send,
 * SendBatch, Ack, Credit, Nack out; Deliver, Ok in) are written and read by hand (frame-encode.ts,
 * frame-decode.ts), the rest by protobufjs from the embedded descriptor (cold: once per connection or
 * per request). Both give the same bytes and the same objects (test/unit/client/hot-codec.test.ts).
 */
import { ClientCodes, ClientError, isClientError } from './errors.js';
import { decodeDeliver, decodeOk } from './frame-decode.js';
import {
  encodeAck,
  encodeCredit,
  encodeNack,
  encodeSend,
  encodeSendBatch,
  FRAME_FIELD,
} from './frame-encode.js';
import type { Ack, Credit, DecodedFrame, Frame, FrameKind, Nack, Send, SendBatch } from './frames.js';
import { Reader, WT_LEN } from './reader.js';
import { FrameType } from './schema.js';
import { HEADER_BYTES } from './writer.js';

export { HEADER_BYTES };
/** Used until Connected tells the peer's choice (and as the client's own receive limit by default). */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

const TO_OBJECT = { longs: Number, oneofs: true } as const;

/** One frame, length prefix included: exactly the bytes to write (TCP) or to send as one WS message. */
export function encodeFrame(frame: Frame): Uint8Array {
  const f = frame as Partial<Record<FrameKind, unknown>>;
  if (f.send !== undefined) return encodeSend(f.send as Send);
  if (f.ack !== undefined) return encodeAck(f.ack as Ack);
  if (f.credit !== undefined) {
    const c = f.credit as Credit;
    return encodeCredit(c.subscription_id, c.credit);
  }
  if (f.send_batch !== undefined) return encodeSendBatch(f.send_batch as SendBatch);
  if (f.nack !== undefined) return encodeNack(f.nack as Nack);
  const body = FrameType.encode(frame as unknown as Record<string, unknown>).finish();
  const out = new Uint8Array(HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, HEADER_BYTES);
  return out;
}

/** Field numbers of the Frame oneof's members this client knows (the descriptor's). */
const KIND_FIELDS = new Set(FrameType.oneofs!.kind!.fieldsArray.map((f) => f.id));

/** Reused for every frame: decoding is synchronous and never re-entered. */
const reader = new Reader();

/**
 * Decodes one frame body (no length prefix). Unknown fields are skipped (the .proto's evolution rule);
 * a frame of an unknown kind comes back with `kind` undefined and is for the caller to ignore. The oneof's
 * last member on the wire is the frame's kind (proto3). Anything malformed is a PROTOCOL ClientError.
 */
export function decodeFrame(body: Uint8Array): DecodedFrame {
  try {
    const r = reader.reset(body, 0, body.length);
    let field = 0;
    let start = 0;
    let end = 0;
    while (r.pos < r.end) {
      const tag = r.uint32();
      const wt = tag & 7;
      if (wt === WT_LEN && KIND_FIELDS.has(tag >>> 3)) {
        end = r.lenEnd();
        start = r.pos;
        r.pos = end;
        field = tag >>> 3;
      } else r.skip(wt);
    }
    if (field === FRAME_FIELD.deliver) return decodeDeliver(r.reset(body, start, end));
    if (field === FRAME_FIELD.ok) return decodeOk(r.reset(body, start, end));
    return FrameType.toObject(FrameType.decode(body), TO_OBJECT) as DecodedFrame;
  } catch (cause) {
    if (isClientError(cause)) throw cause;
    throw new ClientError(ClientCodes.PROTOCOL, `malformed native frame: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Incremental splitter of a byte stream into frame bodies. The length is checked against `maxFrameSize`
 * before any byte of the frame is buffered, so a hostile length cannot make the client allocate. A frame
 * inside one chunk comes out as a view of it (no copy); only a frame that spans chunks is copied.
 */
export class FrameDecoder {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already consumed. */
  private offset = 0;
  private buffered = 0;
  /** Body length of the frame being assembled, or -1 while its header is incomplete. */
  private need = -1;

  constructor(private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {}

  /** Feeds bytes; returns the complete frame bodies they finish, in order. Throws PROTOCOL on a limit. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (chunk.length === 0) return out;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < HEADER_BYTES) return out;
        const n = this.readLength();
        if (n > this.maxFrameSize) {
          throw new ClientError(
            ClientCodes.PROTOCOL,
            `frame of ${n} bytes exceeds the limit ${this.maxFrameSize}`,
          );
        }
        this.need = n;
      }
      if (this.buffered < this.need) return out;
      out.push(this.take(this.need));
      this.need = -1;
    }
  }

  /** The 4-byte big-endian length prefix (buffered >= 4), read in place when it is in one chunk. */
  private readLength(): number {
    const first = this.chunks[0]!;
    const o = this.offset;
    if (first.length - o < HEADER_BYTES) {
      const h = this.take(HEADER_BYTES);
      return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
    }
    const n = ((first[o]! << 24) | (first[o + 1]! << 16) | (first[o + 2]! << 8) | first[o + 3]!) >>> 0;
    this.advance(first, HEADER_BYTES);
    return n;
  }

  /** Removes n buffered bytes; a view of one chunk when it holds them all (the usual case: no copy). */
  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first === undefined) return new Uint8Array(0); // n === 0, nothing buffered
    const o = this.offset;
    if (first.length - o >= n) {
      this.advance(first, n);
      return first.subarray(o, o + n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const at = this.offset;
      const k = Math.min(c.length - at, n - filled);
      out.set(c.subarray(at, at + k), filled);
      filled += k;
      this.advance(c, k);
    }
    return out;
  }

  /** Consumes k bytes of the first chunk `c`; drops it once used up. */
  private advance(c: Uint8Array, k: number): void {
    this.buffered -= k;
    this.offset += k;
    if (this.offset === c.length) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}
