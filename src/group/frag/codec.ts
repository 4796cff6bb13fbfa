/**
 * Codec for `blaze.v1.Fragment` (proto/blaze/v1/transport.proto), hand-written so that `fragment()` can
 * size each piece exactly to the limit it is given; bytes are identical to protobufjs' (tested).
 */
import { tag, varintSize, WireReader, WT_LEN, WT_VARINT, writeVarint } from '../transport/wire.js';

export interface Fragment {
  msgId: number;
  index: number;
  count: number;
  totalSize: number;
  /** A view into the decoded buffer (no copy). */
  data: Uint8Array;
}

const UINT32_MAX = 0xffffffff;
const T_MSG_ID = tag(1, WT_VARINT);
const T_INDEX = tag(2, WT_VARINT);
const T_COUNT = tag(3, WT_VARINT);
const T_TOTAL = tag(4, WT_VARINT);
const T_DATA = tag(5, WT_LEN);

/** Encoded size of a fragment; every field is written, defaults included, so sizes are predictable. */
export function fragmentSize(
  msgId: number,
  index: number,
  count: number,
  totalSize: number,
  dataLen: number,
) {
  return (
    4 +
    varintSize(msgId) +
    varintSize(index) +
    varintSize(count) +
    varintSize(totalSize) +
    1 +
    varintSize(dataLen) +
    dataLen
  );
}

export function encodeFragment(f: Fragment): Uint8Array {
  const out = Buffer.allocUnsafe(fragmentSize(f.msgId, f.index, f.count, f.totalSize, f.data.length));
  let pos = writeVarint(out, writeVarint(out, 0, T_MSG_ID), f.msgId);
  pos = writeVarint(out, writeVarint(out, pos, T_INDEX), f.index);
  pos = writeVarint(out, writeVarint(out, pos, T_COUNT), f.count);
  pos = writeVarint(out, writeVarint(out, pos, T_TOTAL), f.totalSize);
  pos = writeVarint(out, writeVarint(out, pos, T_DATA), f.data.length);
  out.set(f.data, pos);
  return out;
}

/**
 * Decodes one fragment from untrusted bytes; undefined when malformed or impossible (count 0, index out
 * of range, a uint32 field above 2^32-1, more fragments than bytes). Missing fields take proto3 defaults;
 * unknown fields are skipped.
 */
export function decodeFragment(buf: Uint8Array): Fragment | undefined {
  const r = new WireReader(buf);
  let msgId = 0;
  let index = 0;
  let count = 0;
  let totalSize = 0;
  let data: Uint8Array = buf.subarray(0, 0);
  while (r.pos < r.end) {
    const key = r.readVarint();
    if (key < 0) return undefined;
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (field >= 1 && field <= 4 && wireType === WT_VARINT) {
      const v = r.readVarint();
      if (v < 0) return undefined;
      if (field === 1) msgId = v;
      else if (v > UINT32_MAX) return undefined;
      else if (field === 2) index = v;
      else if (field === 3) count = v;
      else totalSize = v;
    } else if (field === 5 && wireType === WT_LEN) {
      const len = r.readVarint();
      if (len < 0 || len > r.end - r.pos) return undefined;
      data = buf.subarray(r.pos, r.pos + len);
      r.pos += len;
    } else if (field === 0 || !r.skip(wireType)) {
      return undefined;
    }
  }
  if (count < 1 || index >= count || count > Math.max(totalSize, 1) || data.length > totalSize)
    return undefined;
  return { msgId, index, count, totalSize, data };
}
