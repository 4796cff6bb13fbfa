/**
 * Incremental STOMP frame decoder: bytes in (`push`, any chunking), frames out (`next`, one at a time).
 *
 * It is pull-based so that the session decides when to stop reading (while a CONNECT is being
 * authenticated, or while too many sends await the store) without the decoder buffering frames for it.
 * It never touches a socket or a timer. Every length is checked against `StompLimits` before anything is
 * buffered or allocated; the only error it throws is `StompCodecError`, after which it stays failed.
 *
 * Grammar (STOMP 1.2 "Augmented BNF"):
 *   frame = command EOL *( header EOL ) EOL *OCTET NULL *( EOL )
 *   EOL   = [CR] LF
 * EOLs between frames are heart-beats and are skipped. CR before LF is accepted from every version (1.0
 * and 1.1 clients typed at a terminal send it too). With `content-length` the body is exactly that many
 * octets (NULs included) and MUST be followed by NUL; without it the body ends at the first NUL.
 */

import { StompCodecError, type StompCodecReason } from './errors.js';
import { unescapeHeader } from './escape.js';
import {
  emptyHeaders,
  isUnescapedCommand,
  type StompFrame,
  type StompHeaders,
  type StompVersion,
} from './frame.js';
import { resolveLimits, type StompLimits } from './limits.js';

const LF = 10;
const CR = 13;
const NUL = 0;
const COLON = 58;
const BACKSLASH = 92;
const EMPTY = Buffer.alloc(0);
const DIGITS = /^[0-9]+$/;

const FRAME_START = 0;
const COMMAND = 1;
const HEADERS = 2;
const BODY = 3;
const BODY_END = 4;

export interface StompDecoderOptions {
  limits?: Partial<StompLimits>;
  /** Escaping rules for frames other than CONNECT/STOMP; the session sets it once the version is agreed. */
  version?: StompVersion;
}

export class StompDecoder {
  /** Decides header unescaping for the frames that follow; may change between two `next()` calls. */
  version: StompVersion;
  private readonly limits: StompLimits;

  /** Chunks pushed and not yet reached; `buf`/`pos` is the chunk being parsed. */
  private queue: Buffer[] = [];
  private queueHead = 0;
  private buf: Buffer = EMPTY;
  private pos = 0;

  private state = FRAME_START;
  /** Pieces of the current line or body when it spans chunks; concatenated once, when complete. */
  private parts: Buffer[] = [];
  private partsLen = 0;
  private lineBuf: Buffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;
  /** First ':' of the line (absolute index in lineBuf), -1 if none; whether it holds a backslash. */
  private lineColon = -1;
  private lineEscaped = false;
  /** Commands and header names recur on every frame: decode each once. */
  private readonly names = new NameCache();
  private readonly values = new NameCache();
  /** The limits admit any frame `nextAck` takes. */
  private readonly ackFastPath: boolean;

  private command = '';
  private headers: StompHeaders = emptyHeaders();
  private headerCount = 0;
  private escaped = false;
  private frameBytes = 0;
  private contentLength = -1;
  private body: Buffer = EMPTY;
  private failure: StompCodecError | null = null;

  constructor(options: StompDecoderOptions = {}) {
    this.limits = resolveLimits(options.limits);
    this.version = options.version ?? '1.2';
    const l = this.limits;
    this.ackFastPath =
      l.maxCommandLength >= 3 &&
      l.maxHeaderLineLength >= ACK_MAX_LINE &&
      l.maxHeaders >= 1 &&
      l.maxFrameSize >= 64;
  }

  /**
   * Fast path for the most frequent frame of a consuming client: a 1.2 ACK that is exactly
   * `ACK\nid:<index>-<tag>\n\n\0`, the id being as encodeAckId writes it (ack-id.ts: base 36, no leading
   * zeros). If the next frame is one and lies in the current chunk, consumes it and returns the index,
   * with the tag in `tagOut[0]`; no strings or objects are made. Otherwise returns -1, having consumed at
   * most heart-beat EOLs, and `next()` decodes the frame as usual. Such a frame is within every limit
   * (checked once, in the constructor) and has nothing to unescape.
   */
  nextAck(tagOut: number[]): number {
    if (this.failure !== null || this.state !== FRAME_START || !this.ackFastPath) return -1;
    if (this.pos >= this.buf.length && !this.advanceChunk()) return -1;
    const b = this.buf;
    const n = b.length;
    let p = this.pos;
    while (p < n && (b[p] === LF || b[p] === CR)) p++;
    this.pos = p;
    if (p + 13 > n || b[p] !== 0x41 || b[p + 1] !== 0x43 || b[p + 2] !== 0x4b || b[p + 3] !== LF) return -1;
    if (b[p + 4] !== 0x69 || b[p + 5] !== 0x64 || b[p + 6] !== COLON) return -1;
    let q = p + 7;
    const index = base36Run(b, q, n);
    if (index < 0) return -1;
    q += base36Length;
    if (q >= n || b[q] !== 0x2d) return -1;
    const tag = base36Run(b, ++q, n);
    if (tag < 0) return -1;
    q += base36Length;
    if (q + 2 >= n || b[q] !== LF || b[q + 1] !== LF || b[q + 2] !== NUL) return -1;
    this.pos = q + 3;
    tagOut[0] = tag;
    return index;
  }

  push(chunk: Buffer): void {
    if (this.failure || chunk.length === 0) return;
    this.queue.push(chunk);
  }

  /** True when pushed bytes remain that `next()` has not consumed yet. */
  get hasBufferedInput(): boolean {
    return this.pos < this.buf.length || this.queueHead < this.queue.length;
  }

  /** The next complete frame, or null when more bytes are needed. Throws StompCodecError. */
  next(): StompFrame | null {
    if (this.failure) throw this.failure;
    try {
      return this.parse();
    } catch (e) {
      if (e instanceof StompCodecError) {
        this.failure = e;
        this.queue = [];
        this.parts = [];
        this.buf = EMPTY;
        this.pos = 0;
      }
      throw e;
    }
  }

  private parse(): StompFrame | null {
    for (;;) {
      if (this.pos >= this.buf.length && !this.advanceChunk()) return null;
      switch (this.state) {
        case FRAME_START: {
          const b = this.buf;
          let p = this.pos;
          while (p < b.length && (b[p] === LF || b[p] === CR)) p++;
          this.pos = p;
          if (p === b.length) break;
          if (b[p] === NUL) this.fail('empty-command', 'A frame must start with a command, got NUL');
          this.state = COMMAND;
          this.frameBytes = 0;
          break;
        }
        case COMMAND: {
          if (!this.readLine(this.limits.maxCommandLength, 'command-too-long')) break;
          this.command = this.names.get(this.lineBuf, this.lineStart, this.lineEnd);
          this.headers = emptyHeaders();
          this.headerCount = 0;
          this.contentLength = -1;
          this.escaped = this.version !== '1.0' && !isUnescapedCommand(this.command);
          this.state = HEADERS;
          break;
        }
        case HEADERS: {
          if (!this.readLine(this.limits.maxHeaderLineLength, 'header-line-too-long')) break;
          if (this.lineEnd === this.lineStart) {
            this.state = BODY;
            break;
          }
          this.parseHeaderLine();
          break;
        }
        case BODY: {
          if (this.contentLength >= 0 ? this.readSizedBody() : this.readNulTerminatedBody()) {
            if (this.contentLength < 0) return this.emit();
            this.state = BODY_END;
          }
          break;
        }
        case BODY_END: {
          if (this.buf[this.pos] !== NUL) {
            this.fail(
              'missing-nul',
              `The ${this.command} frame's body (content-length) is not followed by NUL`,
            );
          }
          this.pos++;
          return this.emit();
        }
      }
    }
  }

  private advanceChunk(): boolean {
    if (this.queueHead >= this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
      this.buf = EMPTY;
      this.pos = 0;
      return false;
    }
    this.buf = this.queue[this.queueHead]!;
    this.queue[this.queueHead++] = EMPTY;
    this.pos = 0;
    return true;
  }

  /**
   * Finds the end of the current line in the bytes available. Returns false (having kept the partial line)
   * when the chunk ends first. On success the line, without its EOL, is lineBuf[lineStart, lineEnd), and
   * lineColon / lineEscaped describe it for parseHeaderLine.
   *
   * The scan is a plain byte loop rather than `indexOf`: lines are short (a native call costs more than
   * the bytes), one pass also finds the first ':' and any '\\', and it never looks further than the limit.
   */
  private readLine(limit: number, reason: StompCodecReason): boolean {
    const b = this.buf;
    const start = this.pos;
    // +1: a CR before the LF is not part of the line; +1 more to see that a line is too long.
    const stop = Math.min(b.length, start + limit + 2 - this.partsLen);
    let colon = -1;
    let backslash = false;
    let i = start;
    for (; i < stop; i++) {
      const c = b[i]!;
      if (c === LF) break;
      if (c === COLON) {
        if (colon < 0) colon = i;
      } else if (c === BACKSLASH) backslash = true;
    }
    if (i === stop) {
      const n = i - start;
      if (this.partsLen + n > limit + 1) this.tooLong(limit, reason);
      this.checkFrameSize(this.partsLen + n);
      this.parts.push(b.subarray(start));
      this.partsLen += n;
      this.pos = b.length;
      return false;
    }
    const lf = i;
    const len = this.partsLen + (lf - start);
    this.frameBytes += len + 1;
    this.checkFrameSize(0);
    this.pos = lf + 1;
    if (this.parts.length === 0) {
      this.lineBuf = b;
      this.lineStart = start;
      this.lineEnd = lf;
      this.lineColon = colon;
      this.lineEscaped = backslash;
    } else {
      this.parts.push(b.subarray(start, lf));
      const line = Buffer.concat(this.parts, len);
      this.lineBuf = line;
      this.lineStart = 0;
      this.lineEnd = len;
      this.lineColon = line.indexOf(COLON);
      this.lineEscaped = line.indexOf(BACKSLASH) !== -1;
      this.parts = [];
      this.partsLen = 0;
    }
    if (this.lineEnd > this.lineStart && this.lineBuf[this.lineEnd - 1] === CR) this.lineEnd--;
    if (this.lineEnd - this.lineStart > limit) this.tooLong(limit, reason);
    return true;
  }

  private parseHeaderLine(): void {
    if (++this.headerCount > this.limits.maxHeaders) {
      this.fail(
        'too-many-headers',
        `The ${this.command} frame has more than ${this.limits.maxHeaders} headers`,
      );
    }
    const b = this.lineBuf;
    const colon = this.lineColon;
    const end = this.lineEnd;
    if (colon === -1 || colon >= end) {
      this.fail('malformed-header', `Header line without ':' in the ${this.command} frame`);
    }
    let name = this.names.get(b, this.lineStart, colon);
    // Values that repeat from frame to frame are shared too (a producer sends to few destinations).
    let value =
      name === 'destination' || name === 'content-length' || name === 'content-type'
        ? this.values.get(b, colon + 1, end)
        : utf8(b, colon + 1, end);
    const escapes = this.escaped && this.lineEscaped;
    if (escapes) {
      name = unescapeHeader(name, this.version);
      value = unescapeHeader(value, this.version);
    }
    // 1.2 "Repeated Header Entries": only the first occurrence counts.
    if (this.headers[name] !== undefined) return;
    this.headers[name] = value;
    if (name === 'content-length') {
      const n = escapes ? -1 : digitsValue(b, colon + 1, end);
      if (n >= 0) this.checkContentLength(n, value);
      else this.setContentLength(value);
    }
  }

  private setContentLength(value: string): void {
    const v = value.trim();
    if (!DIGITS.test(v))
      this.fail('invalid-content-length', `Invalid content-length '${value.slice(0, 32)}'`);
    this.checkContentLength(Number(v), v);
  }

  private checkContentLength(n: number, v: string): void {
    if (n > this.limits.maxBodySize) {
      this.fail(
        'body-too-large',
        `content-length ${v} exceeds the maximum body size of ${this.limits.maxBodySize}`,
      );
    }
    if (this.frameBytes + n + 1 > this.limits.maxFrameSize) {
      this.fail(
        'frame-too-large',
        `The frame would exceed the maximum frame size of ${this.limits.maxFrameSize}`,
      );
    }
    this.contentLength = n;
  }

  private readSizedBody(): boolean {
    const need = this.contentLength - this.partsLen;
    const avail = this.buf.length - this.pos;
    if (avail < need) {
      this.parts.push(this.buf.subarray(this.pos));
      this.partsLen += avail;
      this.pos = this.buf.length;
      return false;
    }
    const piece = this.buf.subarray(this.pos, this.pos + need);
    this.pos += need;
    this.takeBody(piece, this.contentLength);
    return true;
  }

  private readNulTerminatedBody(): boolean {
    // Most frames other than SEND have no body: their NUL is the next byte.
    const nul =
      this.buf[this.pos] === NUL && this.parts.length === 0 ? this.pos : this.buf.indexOf(NUL, this.pos);
    const end = nul === -1 ? this.buf.length : nul;
    const total = this.partsLen + (end - this.pos);
    if (total > this.limits.maxBodySize) {
      this.fail(
        'body-too-large',
        `The ${this.command} frame's body exceeds ${this.limits.maxBodySize} bytes`,
      );
    }
    this.checkFrameSize(total + 1);
    // Most frames other than SEND have no body: no need to allocate an empty view.
    const piece = end === this.pos ? EMPTY : this.buf.subarray(this.pos, end);
    if (nul === -1) {
      if (piece.length > 0) this.parts.push(piece);
      this.partsLen = total;
      this.pos = end;
      return false;
    }
    this.pos = nul + 1;
    this.takeBody(piece, total);
    return true;
  }

  private takeBody(last: Buffer, total: number): void {
    if (this.parts.length === 0) {
      this.body = last;
    } else {
      this.parts.push(last);
      this.body = Buffer.concat(this.parts, total);
      this.parts = [];
      this.partsLen = 0;
    }
  }

  private emit(): StompFrame {
    const frame: StompFrame = { command: this.command, headers: this.headers, body: this.body };
    this.state = FRAME_START;
    this.body = EMPTY;
    return frame;
  }

  private checkFrameSize(extra: number): void {
    if (this.frameBytes + extra > this.limits.maxFrameSize) {
      this.fail(
        'frame-too-large',
        `The frame exceeds the maximum frame size of ${this.limits.maxFrameSize} bytes`,
      );
    }
  }

  private tooLong(limit: number, reason: StompCodecReason): never {
    const what =
      reason === 'command-too-long' ? 'The command line' : `A header line of the ${this.command} frame`;
    return this.fail(reason, `${what} exceeds ${limit} bytes`);
  }

  private fail(reason: StompCodecReason, message: string): never {
    throw new StompCodecError(reason, message);
  }
}

/** `id:` + two 11-digit parts and the dash. */
const ACK_MAX_LINE = 26;
/** Digits read by the last base36Run (module scratch: the decoder is synchronous). */
let base36Length = 0;

/**
 * The value of the run of lower-case base-36 digits at b[at..], 1 to 11 of them without a leading zero
 * (as `toString(36)` writes them), or -1. The run's length is left in `base36Length`.
 */
function base36Run(b: Buffer, at: number, end: number): number {
  let n = 0;
  let i = at;
  const stop = Math.min(end, at + 12);
  for (; i < stop; i++) {
    const c = b[i]!;
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x7a) d = c - 0x57;
    else break;
    n = n * 36 + d;
  }
  const len = i - at;
  if (len === 0 || len > 11 || (len > 1 && b[at] === 0x30)) return -1;
  base36Length = len;
  return n;
}

/** The value of a run of ASCII digits (at most 15, so exact), or -1 for anything else. */
function digitsValue(b: Buffer, start: number, end: number): number {
  if (end === start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * `toString('utf8', start, end)` without its argument normalisation and encoding lookup, which cost more
 * than decoding a short header. `utf8Slice` is the binding Node's own `toString` ends in (present since
 * Node 0.x but undocumented), hence the fallback.
 */
type Utf8Sliceable = Buffer & { utf8Slice?: (start: number, end: number) => string };
const utf8: (b: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as Utf8Sliceable).utf8Slice === 'function'
    ? (b, start, end) => (b as Utf8Sliceable).utf8Slice!(start, end)
    : (b, start, end) => b.toString('utf8', start, end);

const NAME_SLOTS = 256;

/**
 * A small direct-mapped cache of ASCII strings by their bytes. A hit costs a byte comparison instead of
 * a native decode and allocation, and hands back the same string object every time, which V8 has already
 * internalized as a property key. Only short strings are cached, so a miss wastes little.
 */
export class NameCache {
  private readonly slots: Array<string | undefined> = new Array<string | undefined>(NAME_SLOTS).fill(
    undefined,
  );

  get(b: Buffer, start: number, end: number): string {
    const len = end - start;
    if (len === 0) return '';
    if (len > 64) return utf8(b, start, end);
    const slot = (len * 31 + b[start]! * 7 + b[end - 1]! + b[start + (len >> 1)]! * 3) & (NAME_SLOTS - 1);
    const hit = this.slots[slot];
    if (hit !== undefined && hit.length === len) {
      let i = 0;
      while (i < len && hit.charCodeAt(i) === b[start + i]) i++;
      if (i === len) return hit;
    }
    const s = utf8(b, start, end);
    // Cached only when every byte became one UTF-16 unit: then a later byte-for-byte match is exact
    // (a non-ASCII byte decodes to a multi-byte sequence's char or U+FFFD, never equal to itself).
    if (s.length === len) this.slots[slot] = s;
    return s;
  }
}
