/**
 * Protobuf wire-format primitives (https://protobuf.dev/programming-guides/encoding/) for the native
 * protocol's hand-written hot-frame codecs, shared by the broker (src/protocol/native/codec) and the
 * isomorphic client (src/client/codec): plain Uint8Array, no Buffer, and no import, so that the client
 * bundles it for browsers (test/unit/client/isomorphic.test.ts). Each side supplies its own error.
 *
 * Every read is bounds-checked against `end` (the end of the enclosing field) and fails with that error,
 * never a RangeError, and never reads past it. 64-bit varints are decoded to JavaScript numbers: the
 * .proto guarantees values below 2^53, and a larger value loses precision rather than failing (as
 * protobufjs does with `longs: Number`).
 */

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

export function tagOf(field: number, wireType: number): number {
  return (field << 3) | wireType;
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

/** Replacement characters for invalid UTF-8, as protobufjs (Buffer#utf8Slice) decodes it. */
const utf8 = new TextDecoder('utf-8');
const EMPTY = new Uint8Array(0);

/** The last string decoded through `internString` for one field, and its bytes. */
export class StringCache {
  bytes: Uint8Array = EMPTY;
  string = '';
}

/** Strings longer than this (bytes) are decoded every time rather than remembered. */
const MAX_INTERNED = 256;

/**
 * Bytes [start, end) of `buf` as UTF-8, for a field that usually repeats (a queue's address, a
 * publisher's topic, a journal's queue names): bytes equal to the ones `cache` last saw give its string
 * back with no decoding and no allocation. The bytes kept are a copy, so that they do not hold on to the
 * buffer they came in (a socket read).
 */
export function internString(cache: StringCache, buf: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 0) return '';
  const last = cache.bytes;
  if (n === last.length) {
    let i = 0;
    while (i < n && buf[start + i] === last[i]) i++;
    if (i === n) return cache.string;
  }
  const bytes = buf.subarray(start, end);
  const string = utf8.decode(bytes);
  if (n <= MAX_INTERNED) {
    cache.string = string;
    cache.bytes = bytes.slice();
  }
  return string;
}

export class WireReader {
  pos = 0;
  /** Exclusive end of what may be read; narrowed while a nested message is read. */
  end = 0;
  buf: Uint8Array = EMPTY;
  private view: DataView | undefined;

  /** `malformed` makes the error a read throws, in the caller's own error type. */
  constructor(private readonly malformed: (what: string) => Error) {}

  /** The error this reader throws for malformed input, for decoders built on it. */
  error(what: string): Error {
    return this.malformed(what);
  }

  /** Throws unless a known field came with the wire type its schema gives it. */
  expect(wireType: number, wanted: number, field: string): void {
    if (wireType !== wanted) throw this.malformed(`${field} has wire type ${wireType}`);
  }

  reset(buf: Uint8Array, start: number, end: number): this {
    if (buf !== this.buf) this.view = undefined;
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  /** A varint of up to 32 significant bits (tags, lengths, uint32, enums); a longer one keeps its low 32. */
  uint32(): number {
    const b = this.buf;
    let p = this.pos;
    if (p >= this.end) throw this.malformed('truncated varint');
    let c = b[p++]!;
    if (c < 0x80) {
      this.pos = p;
      return c;
    }
    let v = c & 0x7f;
    for (let shift = 7; shift < 35; shift += 7) {
      if (p >= this.end) throw this.malformed('truncated varint');
      c = b[p++]!;
      v |= (c & 0x7f) << shift;
      if (c < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    // Bytes 6..10 of a 64-bit varint (a negative int32 is sign-extended to 10 bytes).
    for (let i = 0; i < 5; i++) {
      if (p >= this.end) throw this.malformed('truncated varint');
      if (b[p++]! < 0x80) {
        this.pos = p;
        return v >>> 0;
      }
    }
    throw this.malformed('varint longer than 10 bytes');
  }

  /** A varint as a number (uint64 below 2^53 exactly). */
  uint64(): number {
    const b = this.buf;
    let p = this.pos;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw this.malformed('truncated varint');
      const c = b[p++]!;
      v += (c & 0x7f) * mul;
      if (c < 0x80) {
        this.pos = p;
        return v;
      }
      mul *= 128;
    }
    throw this.malformed('varint longer than 10 bytes');
  }

  /**
   * sint64 (zigzag) as a number, decoded on two 32-bit halves: the zigzag form of an integer near
   * -2^53 is above 2^53, where a double would lose its low (sign) bit.
   */
  sint64(): number {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) throw this.malformed('truncated varint');
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
        // n = (u >>> 1) ^ -(u & 1): the magnitude is u >>> 1, a negative value its complement.
        const m = (hi >>> 1) * 0x1_0000_0000 + (((lo >>> 1) | ((hi & 1) << 31)) >>> 0);
        return lo & 1 ? -m - 1 : m;
      }
    }
    throw this.malformed('varint longer than 10 bytes');
  }

  bool(): boolean {
    return this.uint64() !== 0;
  }

  double(): number {
    if (this.end - this.pos < 8) throw this.malformed('truncated double');
    const b = this.buf;
    this.view ??= new DataView(b.buffer, b.byteOffset, b.byteLength);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Reads a LEN field's length, checked to fit in `end`; returns the field's end. */
  lenEnd(): number {
    const len = this.uint32();
    const end = this.pos + len;
    if (end > this.end) throw this.malformed('length beyond the end of its message');
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
   * A string that usually repeats (every message of a queue has the same address): bytes equal to the
   * ones `cache` last saw give its string back, with no decoding and no allocation.
   */
  internedString(cache: StringCache): string {
    const end = this.lenEnd();
    const start = this.pos;
    this.pos = end;
    return internString(cache, this.buf, start, end);
  }

  /** Skips a field the reader does not know (proto3 evolution: unknown fields are ignored). */
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
        // 3 and 4 are proto2 groups, which proto3 has no way to declare; 6 and 7 do not exist.
        throw this.malformed(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw this.malformed('truncated fixed-size field');
    this.pos += n;
  }
}

// ---------------------------------------------------------------------------------------------- writing strings

const encoder = new TextEncoder();

/**
 * UTF-8 length of `s` as TextEncoder writes it: a surrogate pair is 4 bytes, a lone surrogate becomes
 * U+FFFD (3 bytes). Measured in JS: there is no native byte-length call outside Node.
 */
export function utf8Length(s: string): number {
  const n = s.length;
  let len = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) len += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      len += 2; // 4 bytes for the two UTF-16 units
      i++;
    } else len += 2;
  }
  return len;
}

/** Size of a LEN field (one-byte tag) holding `s`; 0 for '' (a proto3 default, not written). */
export function stringFieldSize(s: string | undefined): number {
  if (!s) return 0;
  const len = utf8Length(s);
  return 1 + varintSize(len) + len;
}

/**
 * Writes a LEN field (one-byte tag) holding `s` at `p`, nothing for ''. One pass for short ASCII (ids,
 * addresses, content types: the usual case): the characters are copied while checking that they are
 * ASCII, about twice as fast as TextEncoder.encodeInto for them (measured, docs/CLIENT.md
 * "Performance"); a string that turns out not to be starts again through the native encoder.
 */
export function writeStringField(buf: Uint8Array, p: number, tag: number, s: string | undefined): number {
  if (!s) return p;
  return writeString(buf, p, tag, s);
}

/** As writeStringField, '' included (a oneof member or a map key is written even when empty). */
export function writeString(buf: Uint8Array, p: number, tag: number, s: string): number {
  const n = s.length;
  buf[p] = tag;
  if (n < 128) {
    buf[p + 1] = n;
    const start = p + 2;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    if (i === n) return start + n;
  }
  const len = utf8Length(s);
  const at = writeVarint(buf, p + 1, len);
  encoder.encodeInto(s, buf.subarray(at, at + len));
  return at + len;
}
