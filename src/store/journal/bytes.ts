/**
 * Little-endian byte writer and reader for the journal's hand-written codec. The writer grows one
 * reusable Buffer (a group commit encodes into the same memory every time); the reader checks every
 * length against the end of its window before it reads, so a bad length is a JournalDecodeError and
 * never an out-of-bounds read or a huge allocation.
 */

export class JournalDecodeError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'JournalDecodeError';
  }
}

/**
 * Doubles go through a scratch array: Buffer#writeDoubleLE validates its arguments and bounds again
 * after `ensure` made room (two per message head). The bytes are stored little-endian on any host.
 */
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialSize = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    F64[0] = v;
    const b = this.buf;
    const p = this.pos;
    const x = F64_BYTES;
    if (HOST_LE) {
      b[p] = x[0]!;
      b[p + 1] = x[1]!;
      b[p + 2] = x[2]!;
      b[p + 3] = x[3]!;
      b[p + 4] = x[4]!;
      b[p + 5] = x[5]!;
      b[p + 6] = x[6]!;
      b[p + 7] = x[7]!;
    } else for (let i = 0; i < 8; i++) b[p + i] = x[7 - i]!;
    this.pos = p + 8;
  }

  /** LEB128 unsigned, for counts and lengths below 2^32. */
  varuint(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** UTF-8 with a varuint byte-length prefix. */
  str(s: string): void {
    const len = s.length;
    // Fast path: at most 3 bytes per UTF-16 unit, so a string of <= 42 units fits a one-byte prefix.
    if (len <= 42) {
      this.ensure(1 + len * 3);
      const b = this.buf;
      const at = this.pos + 1;
      // ASCII (ids, addresses, property names) is copied here: for strings this short the call into
      // the native UTF-8 encoder costs more than the copy.
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + i] = c;
      }
      const n = i === len ? len : b.write(s, at, 'utf8');
      b[this.pos] = n;
      this.pos = at + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varuint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
  }

  bytes(b: Uint8Array): void {
    this.varuint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

export class ByteReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new JournalDecodeError(`truncated: need ${n} bytes`, this.pos);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  f64(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  varuint(): number {
    let v = 0;
    let shift = 0;
    for (;;) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      if (shift === 28 && b > 0x0f) throw new JournalDecodeError('varuint exceeds 32 bits', this.pos - 1);
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  }

  str(): string {
    const n = this.varuint();
    this.need(n);
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /** Steps over `n` bytes. */
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Steps over a `str` or `bytes` field without decoding or copying it. */
  skipField(): void {
    const n = this.varuint();
    this.need(n);
    this.pos += n;
  }

  /** A copy: recovered bodies must not pin the segment buffer they were read from. */
  bytes(): Uint8Array {
    const n = this.varuint();
    this.need(n);
    const b = new Uint8Array(n);
    b.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return b;
  }
}
