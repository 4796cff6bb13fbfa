/**
 * Length-prefixed framing (native.proto, "Framing"): a 4-byte big-endian length N, then N bytes of one
 * encoded `Frame`. The reader is incremental and pure: bytes go in with `push`, whole frames come out of
 * `next`, nothing touches a socket.
 *
 * The length is checked against `maxFrameSize` as soon as its 4 bytes are here, before any of the body
 * is waited for, so an oversized frame fails without being buffered. Chunks are joined only when a
 * frame (or a length) spans them, once per such frame; a frame inside one chunk is returned as a view
 * of it (zero-copy: message bodies stay slices of what the socket read).
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
    let available = this.head.length - this.pos;
    if (available < LENGTH_PREFIX) {
      if (available + this.moreBytes < LENGTH_PREFIX) return null;
      available = this.merge();
    }
    const head = this.head;
    const p = this.pos;
    const size = ((head[p]! << 24) | (head[p + 1]! << 16) | (head[p + 2]! << 8) | head[p + 3]!) >>> 0;
    if (size > this.maxFrameSize) throw tooLarge(size, this.maxFrameSize);
    const total = LENGTH_PREFIX + size;
    if (available < total) {
      if (available + this.moreBytes < total) return null;
      this.merge();
    }
    const start = this.pos + LENGTH_PREFIX;
    this.pos += total;
    if (this.pos === this.head.length && this.moreBytes === 0) {
      const frame = this.head.subarray(start, start + size);
      this.head = EMPTY;
      this.pos = 0;
      return frame;
    }
    return this.head.subarray(start, start + size);
  }

  /** Drops everything buffered (the connection is closing). */
  clear(): void {
    this.head = EMPTY;
    this.pos = 0;
    this.more.length = 0;
    this.moreBytes = 0;
  }

  /** Joins the unread part of `head` with every later chunk; returns the bytes now in `head`. */
  private merge(): number {
    const parts = [this.head.subarray(this.pos), ...this.more];
    const total = this.head.length - this.pos + this.moreBytes;
    this.head = Buffer.concat(parts, total);
    this.pos = 0;
    this.more.length = 0;
    this.moreBytes = 0;
    return total;
  }
}

/** The 4-byte length prefix of a frame of `size` bytes, written at `pos`. */
export function writeLength(buf: Uint8Array, pos: number, size: number): void {
  buf[pos] = size >>> 24;
  buf[pos + 1] = (size >>> 16) & 0xff;
  buf[pos + 2] = (size >>> 8) & 0xff;
  buf[pos + 3] = size & 0xff;
}
