/**
 * Message bodies the broker may keep without keeping more memory alive than they are worth.
 *
 * Protocol decoders hand out bodies as views of what the socket read (zero-copy), and a view keeps its
 * whole ArrayBuffer alive. A 100-byte message left in a queue then holds the 64 KiB read it arrived in,
 * long after the other messages of that read were consumed, while memory limits count 100 bytes: a client
 * mixing small messages for an idle queue into a stream for a busy one could make the broker hold
 * hundreds of times what its limits allow. So bytes that are less than half of a buffer larger than
 * Node's shared pool are copied; small copies come from that pool (8 KiB slabs shared by many
 * allocations), which bounds what a retained small body can hold. A body that fills most of its buffer
 * (a large message, or one a decoder already joined into a buffer of its own) stays a view.
 *
 * Import-free (beyond Node's Buffer), so every layer may use it.
 */

const EMPTY = Buffer.alloc(0);

/** True when `byteLength` bytes of `backing` must be copied before a message keeps them. */
export function pinsMore(byteLength: number, backing: ArrayBufferLike): boolean {
  const whole = backing.byteLength;
  return whole > Buffer.poolSize && byteLength * 2 < whole;
}

/** Bytes [start, end) of `buf`, copied if keeping a view would pin a much larger buffer. */
export function ownBytesOf(buf: Buffer, start: number, end: number): Buffer {
  const n = end - start;
  if (n === 0) return EMPTY;
  if (!pinsMore(n, buf.buffer)) return buf.subarray(start, end);
  const out = Buffer.allocUnsafe(n);
  buf.copy(out, 0, start, end);
  return out;
}

/** `bytes` itself, or a copy when keeping it would pin a much larger buffer. */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 0 || !pinsMore(bytes.byteLength, bytes.buffer)) return bytes;
  const out = Buffer.allocUnsafe(bytes.byteLength);
  out.set(bytes);
  return out;
}
