/**
 * Length-prefixed framing (native.proto, "Framing"): a 4-byte big-endian length N, then N bytes of one
 * encoded `Frame`. The reader is incremental and pure: bytes go in with `push`, whole frames come out of
 * `next`, nothing touches a socket.
 *
 * The length is checked against `maxFrameSize` as soon as its 4 bytes are here, before any of the body
 * is waited for, so an oversized frame fails without being buffered. A frame inside one chunk is
 * returned as a view of it (zero-copy: message bodies stay slices of what the socket read); a frame that
 * spans chunks is copied out on its own (never the rest of the chunks, which a join of whole chunks
 * would copy once per chunk boundary).
 */
import { tooLarge } from './errors.js';

export const LENGTH_PREFIX = 4;

const EMPTY = Buffer.alloc(0);

export class FrameReader {
  private head: Buffer = EMPTY;
  private pos = 0;
  private readonly more: Buffer[] = [];
  private moreBytes = 0;

  constructor(
    /** Largest frame accepted (bytes after the length prefix); may be changed between frames. */
    public maxFrameSize: number,
  ) {}

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.head.length - this.pos + this.moreBytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos === this.head.length && this.moreBytes === 0) {
      this.head = chunk;
      this.pos = 0;
    } else {
      this.more.push(chunk);
      this.moreBytes += chunk.length;
    }
  }

  /**
   * The next whole frame (without its length prefix), or null until more bytes arrive. Throws
   * LIMIT_EXCEEDED for a frame above `maxFrameSize`; the reader is then unusable (the stream has lost
   * its framing), and the caller closes the connection.
   */
  next(): Uint8Array | null {
    const available = this.head.length - this.pos;
    if (available + this.moreBytes < LENGTH_PREFIX) return null;
    const size =
      available >= LENGTH_PREFIX
        ? this.head.readUInt32BE(this.pos)
        : ((this.byteAt(0) << 24) | (this.byteAt(1) << 16) | (this.byteAt(2) << 8) | this.byteAt(3)) >>> 0;
    if (size > this.maxFrameSize) throw tooLarge(size, this.maxFrameSize);
    const total = LENGTH_PREFIX + size;
    if (available >= total) {
      const start = this.pos + LENGTH_PREFIX;
      this.pos += total;
      const frame = this.head.subarray(start, start + size);
      if (this.pos === this.head.length) this.advanceChunk();
      return frame;
    }
    if (available + this.moreBytes < total) return null;
    // The frame spans chunks: copy exactly its bytes, and go on in the chunk where it ends.
    const out = Buffer.allocUnsafe(total);
    let filled = 0;
    while (filled < total) {
      const n = Math.min(total - filled, this.head.length - this.pos);
      this.head.copy(out, filled, this.pos, this.pos + n);
      filled += n;
      this.pos += n;
      if (this.pos === this.head.length) this.advanceChunk();
    }
    return out.subarray(LENGTH_PREFIX);
  }

  /** Drops everything buffered (the connection is closing). */
  clear(): void {
    this.head = EMPTY;
    this.pos = 0;
    this.more.length = 0;
    this.moreBytes = 0;
  }

  /** Byte `i` of the unread input, across chunks (only for a length prefix split between chunks). */
  private byteAt(i: number): number {
    let rest = i + this.pos;
    if (rest < this.head.length) return this.head[rest]!;
    rest -= this.head.length;
    for (const c of this.more) {
      if (rest < c.length) return c[rest]!;
      rest -= c.length;
    }
    return 0;
  }

  /** `head` is used up: the next chunk (if any) takes its place. */
  private advanceChunk(): void {
    const next = this.more.shift();
    if (next === undefined) {
      this.head = EMPTY;
    } else {
      this.head = next;
      this.moreBytes -= next.length;
    }
    this.pos = 0;
  }
}

/** The 4-byte length prefix of a frame of `size` bytes, written at `pos`. */
export function writeLength(buf: Uint8Array, pos: number, size: number): void {
  buf[pos] = size >>> 24;
  buf[pos + 1] = (size >>> 16) & 0xff;
  buf[pos + 2] = (size >>> 8) & 0xff;
  buf[pos + 3] = size & 0xff;
}
