/**
 * STOMP frame encoder. Two entry points:
 *  - `encodeFrame` for the occasional frame (CONNECTED, RECEIPT, ERROR, tests): generic, escapes per version;
 *  - `FrameAllocator` for the MESSAGE hot path: regions of shared slabs that the session fills with
 *    frames (message-out.ts), so that a batch of frames costs one copy of each body and one allocation.
 */
import { escapeHeader, escapeHeaderName, sanitize10 } from './escape.js';
import { type HeaderInput, isUnescapedCommand, type OutgoingFrame, type StompVersion } from './frame.js';

const EMPTY = new Uint8Array(0);

/**
 * Encodes one frame. `content-length` is added whenever there is a body and the caller did not set one
 * (1.2 "Header content-length": SHOULD be included), so bodies may contain NUL.
 */
export function encodeFrame(frame: OutgoingFrame, version: StompVersion): Buffer {
  const body = typeof frame.body === 'string' ? Buffer.from(frame.body, 'utf8') : (frame.body ?? EMPTY);
  const raw = isUnescapedCommand(frame.command);
  let head = frame.command + '\n';
  let hasLength = false;
  const add = (name: string, value: string) => {
    if (name === 'content-length') hasLength = true;
    if (raw) head += sanitize10(name, true) + ':' + sanitize10(value, false) + '\n';
    else head += escapeHeaderName(name, version) + ':' + escapeHeader(value, version) + '\n';
  };
  forEachHeader(frame.headers, add);
  if (!hasLength && body.length > 0) head += 'content-length:' + body.length + '\n';
  head += '\n';
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + body.length + 1);
  out.write(head, 0, 'utf8');
  out.set(body, headLen);
  out[headLen + body.length] = 0;
  return out;
}

function forEachHeader(headers: HeaderInput | undefined, fn: (name: string, value: string) => void): void {
  if (!headers) return;
  if (Array.isArray(headers)) {
    for (const [n, v] of headers as ReadonlyArray<readonly [string, string]>) fn(n, v);
  } else {
    const rec = headers as Readonly<Record<string, string>>;
    for (const n in rec) fn(n, rec[n]!);
  }
}

const SLAB_SIZE = 256 * 1024;
/** Regions bigger than this get their own buffer instead of wasting the rest of a slab. */
const SLAB_MAX_FRAME = 64 * 1024;

/**
 * Hands out regions carved from 256 KiB slabs. A region is never reused (the transport may still hold
 * it); a slab is released by GC once every region cut from it has been written. Two ways to use it:
 * `frame(head, body)` for one frame, or `reserve(worst)` + write at `start` + `commit(end)` for callers
 * that write bytes themselves (several MESSAGE frames in one region, see message-out.ts).
 */
export class FrameAllocator {
  private slab: Buffer = Buffer.allocUnsafe(0);
  private offset = 0;
  private current: Buffer = this.slab;
  /** Where the caller of `reserve` writes. */
  start = 0;

  /** A buffer with at least `worst` bytes free from `start`; finish with `commit`. */
  reserve(worst: number): Buffer {
    if (worst > SLAB_MAX_FRAME) {
      this.current = Buffer.allocUnsafe(worst);
      this.start = 0;
      return this.current;
    }
    if (this.offset + worst > this.slab.length) {
      this.slab = Buffer.allocUnsafe(SLAB_SIZE);
      this.offset = 0;
    }
    this.current = this.slab;
    this.start = this.offset;
    return this.slab;
  }

  /** The region [start, end) of the last `reserve`, which `end` must not exceed. */
  commit(end: number): Buffer {
    const out = this.current.subarray(this.start, end);
    if (this.current === this.slab) this.offset = end;
    else this.current = this.slab;
    return out;
  }

  /** `head` is the complete header block, ending with the blank line; returns head + body + NUL. */
  frame(head: string, body: Uint8Array): Buffer {
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    const buf = this.reserve(head.length * 3 + body.length + 1);
    const start = this.start;
    const headLen = buf.write(head, start, 'utf8');
    const bodyAt = start + headLen;
    buf.set(body, bodyAt);
    const end = bodyAt + body.length;
    buf[end] = 0;
    return this.commit(end + 1);
  }
}

/** One EOL: the heart-beat (1.2 "Heart-beating"). */
export const HEARTBEAT = Buffer.from('\n');
