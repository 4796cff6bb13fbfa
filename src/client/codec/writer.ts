/**
 * Protobuf wire-format writing for the client's hand-written hot-frame encoders, on plain Uint8Array
 * (browser-safe: no Buffer). Encoders compute a frame's exact size first, allocate once, then write
 * forward with these helpers, each returning the position after what it wrote.
 */

import { varintSize, writeVarint } from '../../util/protobuf-wire.js';

export { tagOf, varintSize, WT_I64, WT_LEN, WT_VARINT, writeVarint } from '../../util/protobuf-wire.js';

/** Size of a varint field (one-byte tag) holding `v`; 0 for 0 or absent (proto3 default, not written). */
export function varFieldSize(v: number | undefined): number {
  return v ? 1 + varintSize(v) : 0;
}

/** Writes a varint field (one-byte tag) holding `v` at `p`; nothing for 0 or absent. */
export function writeVarField(buf: Uint8Array, p: number, tag: number, v: number | undefined): number {
  if (!v) return p;
  buf[p++] = tag;
  return writeVarint(buf, p, v);
}

// ---------------------------------------------------------------------------------------------- sint64

/**
 * Zigzag (sint64) of a safe integer, as two 32-bit halves: 2|v| (or 2|v| - 1 for v < 0) reaches 2^54,
 * past what a double holds exactly, so the doubling is done on the halves. Values outside the safe range
 * are never written as int_value (message.ts sends them as double_value).
 */
let zzLo = 0;
let zzHi = 0;

function zigzag(v: number): void {
  const mag = v < 0 ? -v : v;
  const lo = mag >>> 0;
  const hi = Math.floor(mag / 0x1_0000_0000) >>> 0;
  let l = (lo << 1) >>> 0;
  let h = ((hi << 1) | (lo >>> 31)) >>> 0;
  if (v < 0) {
    // 2|v| - 1: borrow from the high half when the low one is 0.
    if (l === 0) h = (h - 1) >>> 0;
    l = (l - 1) >>> 0;
  }
  zzLo = l;
  zzHi = h;
}

/** Bytes of the zigzag varint of a safe integer. */
export function sint64Size(v: number): number {
  zigzag(v);
  if (zzHi === 0) return varintSize(zzLo);
  // One byte per 7 significant bits: all 32 of lo, then hi's.
  return Math.ceil((64 - Math.clz32(zzHi)) / 7);
}

export function writeSint64(buf: Uint8Array, p: number, v: number): number {
  zigzag(v);
  let lo = zzLo;
  let hi = zzHi;
  while (hi !== 0 || lo >= 0x80) {
    buf[p++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[p++] = lo;
  return p;
}

// ---------------------------------------------------------------------------------------------- strings

// Shared with the broker's encoder (util/protobuf-wire.ts).
export { stringFieldSize, utf8Length, writeString, writeStringField } from '../../util/protobuf-wire.js';

// ---------------------------------------------------------------------------------------------- framing

export const HEADER_BYTES = 4;

/**
 * Frame buffers are cut from 64 KiB slabs, as Node's Buffer.allocUnsafe cuts small buffers from a pool:
 * a typed array over ~64 bytes gets its own off-heap backing store, and allocating (and collecting) one
 * per publish was the largest single cost of a producer's encoding (docs/CLIENT.md "Performance"). A
 * frame is never written to once returned, so frames may share a slab; it is freed with its last frame.
 */
const SLAB_SIZE = 64 * 1024;
/** Larger frames get their own buffer: a slab would hold too few of them to be worth it. */
const SLAB_MAX_FRAME = 8 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/** A zero-filled buffer of `size` bytes for one frame. */
export function allocFrame(size: number): Uint8Array {
  if (size > SLAB_MAX_FRAME) return new Uint8Array(size);
  if (slabUsed + size > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  // The constructor, not subarray(): no species lookup, measurably cheaper per frame.
  const out = new Uint8Array(slab.buffer, slabUsed, size);
  // Not aligned: frames encoded one after the other are one run of bytes, which a transport can write
  // without joining them (transport/node-tcp.ts).
  slabUsed += size;
  return out;
}

/** The 4-byte big-endian length prefix of a frame body of `size` bytes (native.proto "Framing"). */
export function writeLengthPrefix(buf: Uint8Array, size: number): void {
  buf[0] = size >>> 24;
  buf[1] = (size >>> 16) & 0xff;
  buf[2] = (size >>> 8) & 0xff;
  buf[3] = size & 0xff;
}
