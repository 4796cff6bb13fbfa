/**
 * Native protocol framing (proto/blaze/v1/native.proto header): a 4-byte big-endian length N, then N
 * bytes of one encoded `Frame`; the length excludes itself. Pure: bytes in, frames out, no I/O, no timers.
 */
import { ClientCodes, ClientError } from './errors.js';
import type { DecodedFrame, Frame } from './frames.js';
import { FrameType } from './schema.js';

export const HEADER_BYTES = 4;
/** Used until Connected tells the peer's choice (and as the client's own receive limit by default). */
export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

const TO_OBJECT = { longs: Number, oneofs: true } as const;

/** One frame, length prefix included: exactly the bytes to write (TCP) or to send as one WS message. */
export function encodeFrame(frame: Frame): Uint8Array {
  const body = FrameType.encode(frame as unknown as Record<string, unknown>).finish();
  const out = new Uint8Array(HEADER_BYTES + body.length);
  new DataView(out.buffer).setUint32(0, body.length, false);
  out.set(body, HEADER_BYTES);
  return out;
}

/**
 * Decodes one frame body (no length prefix). Unknown fields are skipped (the .proto's evolution rule);
 * a frame of an unknown kind comes back with `kind` undefined and is for the caller to ignore.
 */
export function decodeFrame(body: Uint8Array): DecodedFrame {
  try {
    return FrameType.toObject(FrameType.decode(body), TO_OBJECT) as DecodedFrame;
  } catch (cause) {
    throw new ClientError(ClientCodes.PROTOCOL, `malformed native frame: ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * Incremental splitter of a byte stream into frame bodies. The length is checked against `maxFrameSize`
 * before any byte of the frame is buffered, so a hostile length cannot make the client allocate.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
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
        const header = this.take(HEADER_BYTES);
        const n = new DataView(header.buffer, header.byteOffset, HEADER_BYTES).getUint32(0, false);
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

  /** Removes n buffered bytes; a slice of one chunk when it holds them all (the usual case: no copy). */
  private take(n: number): Uint8Array {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      out.set(c.subarray(0, k), filled);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
