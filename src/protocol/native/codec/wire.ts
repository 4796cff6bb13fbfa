/**
 * Protobuf wire-format primitives for the hand-written hot-frame codecs (encoding spec:
 * https://protobuf.dev/programming-guides/encoding/). Every read is bounds-checked against the end of
 * the enclosing field and fails with a PROTOCOL error, never a RangeError.
 *
 * 64-bit varints are decoded to JavaScript numbers: the .proto guarantees values below 2^53, and a
 * larger value loses precision rather than failing (as protobufjs does with Long absent).
 */
import { malformed } from './errors.js';

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

export function tagOf(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

const utf8 = new TextDecoder('utf-8');

export class Reader {
  pos: number;

  constructor(
    public buf: Uint8Array,
    start: number,
    /** Exclusive end of what may be read. */
    public end: number,
  ) {
    this.pos = start;
  }

  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of up to 32 significant bits (tags, lengths, uint32, bool, enum). */
  uint32(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= this.end) throw malformed('truncated varint');
    let c = b[p++]!;
    if (c < 0x80) {
      this.pos = p;
      return c;
    }
    let v = c & 0x7f;
    for (let shift = 7; shift < 35; shift += 7) {
      if (p >= this.end) throw malformed('truncated varint');
      c = b[p++]!;
      v |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    // Bytes 6..10 of a 64-bit varint (a negative int32 is sign-extended to 10 bytes): keep the low 32.
    for (let i = 0; i < 5; i++) {
      if (p >= this.end) throw malformed('truncated varint');
      if (b[p++]! < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    throw malformed('varint longer than 10 bytes');
  }

  /** A varint as a number (uint64 below 2^53). */
  uint64(): number {
    const b = this.buf;
    let p = this.pos;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw malformed('truncated varint');
      const c = b[p++]!;
      v += (c & 0x7f) * mul;
      if (c < 0x80) {
        this.pos = p;
        return v;
      }
      mul *= 128;
    }
    throw malformed('varint longer than 10 bytes');
  }

  /**
   * sint64 (zigzag) as a number. Decoded on two 32-bit halves: the zigzag value of an integer near
   * -2^53 is above 2^53, where a double would lose the low (sign) bit.
   */
  sint64(): number {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw malformed('truncated varint');
      const c = b[p++]!;
      const bits = c & 0x7f;
      const shift = i * 7;
      if (shift < 28) lo |= bits << shift;
      else if (shift === 28) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (shift - 32);
      if (c < 0x80) {
        this.pos = p;
        lo >>>= 0;
        hi >>>= 0;
        // n = (u >>> 1) ^ -(u & 1): the magnitude is u >>> 1, negative values are its complement.
        const odd = lo & 1;
        const m = (hi >>> 1) * 0x1_0000_0000 + (((lo >>> 1) | ((hi & 1) << 31)) >>> 0);
        return odd ? -m - 1 : m;
      }
    }
    throw malformed('varint longer than 10 bytes');
  }

  bool(): boolean {
    return this.uint64() !== 0;
  }

  double(): number {
    if (this.end - this.pos < 8) throw malformed('truncated double');
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  /** Length of a LEN field, checked to fit; returns the field's end. */
  lenEnd(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) throw malformed('length beyond the end of the frame');
    return end;
  }

  /** A zero-copy view of a LEN field's bytes. */
  bytes(): Uint8Array {
    const end = this.lenEnd();
    const v = this.buf.subarray(this.pos, end);
    this.pos = end;
    return v;
  }

  string(): string {
    const end = this.lenEnd();
    const start = this.pos;
    this.pos = end;
    return end === start ? '' : utf8.decode(this.buf.subarray(start, end));
  }

  /**
   * A string that usually repeats (a message's address): when its bytes equal the last ones read here,
   * the last string is returned without decoding or allocating.
   */
  internedString(): string {
    const end = this.lenEnd();
    const start = this.pos;
    this.pos = end;
    const n = end - start;
    const last = this.lastBytes;
    if (n === last.length && n <= 256) {
      const b = this.buf;
      let i = 0;
      while (i < n && b[start + i] === last[i]) i++;
      if (i === n) return this.lastString;
    }
    if (n === 0) return '';
    const bytes = this.buf.subarray(start, end);
    this.lastString = utf8.decode(bytes);
    // A copy: the frame's bytes are a view of a socket chunk that is reused or released.
    this.lastBytes = n <= 256 ? Uint8Array.from(bytes) : new Uint8Array(0);
    return this.lastString;
  }

  private lastBytes: Uint8Array = new Uint8Array(0);
  private lastString = '';

  /** Skips an unknown field (proto3: unknown fields are ignored). Groups are not valid in proto3. */
  skip(wireType: number): void {
    switch (wireType) {
      case WT_VARINT:
        this.uint64();
        return;
      case WT_I64:
        this.advance(8);
        return;
      case WT_LEN:
        this.pos = this.lenEnd();
        return;
      case WT_I32:
        this.advance(4);
        return;
      default:
        throw malformed(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw malformed('truncated fixed-size field');
    this.pos += n;
  }
}

/** Bytes a varint of `v` takes (v a non-negative integer below 2^53). */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  v = Math.floor(v / 0x800000000);
  while (v > 0) {
    n++;
    v = Math.floor(v / 128);
  }
  return n;
}

/** Writes `v` (non-negative integer below 2^53) at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80000000) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/**
 * Zigzag encoding of an integer (sint64), as the unsigned value to write as a varint. Exact for
 * |v| < 2^52 (SINT_SAFE); larger integers are sent as doubles by the message encoder.
 */
export const SINT_SAFE = 2 ** 52;

export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}
