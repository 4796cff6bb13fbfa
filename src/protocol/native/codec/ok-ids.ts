/**
 * `Ok{request_id, message_ids}` (native.proto version 2): the answer to a Send or SendBatch that set
 * `want_ids`. Written by hand like the plain Ok (encode.ts), byte-identical to protobufjs:
 *
 *   Frame.ok tag 0x2a (field 5, LEN) <len>   Ok 0x08 request_id | 0x12 <len> id, repeated
 *
 * Every id is written, "" included (an unknown id keeps its position; proto3 writes each element of a
 * repeated string). A request that did not ask for ids is answered by `encodeOk`, unchanged.
 */
import { LENGTH_PREFIX, writeLength } from './framing.js';
import { FIELD } from './types.js';
import { tagOf, varintSize, WT_LEN, WT_VARINT, writeVarint } from './wire.js';

const OK_TAG = tagOf(FIELD.ok, WT_LEN);
const REQUEST_ID_TAG = tagOf(1, WT_VARINT);
const MESSAGE_ID_TAG = tagOf(2, WT_LEN);

export function encodeOkIds(requestId: number, ids: readonly string[]): Buffer {
  let inner = requestId === 0 ? 0 : 1 + varintSize(requestId);
  const lengths = new Array<number>(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const n = Buffer.byteLength(ids[i]!);
    lengths[i] = n;
    inner += 1 + varintSize(n) + n;
  }
  const size = 1 + varintSize(inner) + inner;
  const out = Buffer.allocUnsafe(LENGTH_PREFIX + size);
  writeLength(out, 0, size);
  let p = LENGTH_PREFIX;
  out[p++] = OK_TAG;
  p = writeVarint(out, p, inner);
  if (requestId !== 0) {
    out[p++] = REQUEST_ID_TAG;
    p = writeVarint(out, p, requestId);
  }
  for (let i = 0; i < ids.length; i++) {
    out[p++] = MESSAGE_ID_TAG;
    p = writeVarint(out, p, lengths[i]!);
    p += out.write(ids[i]!, p, lengths[i]!, 'utf8');
  }
  if (p !== out.length) throw new Error(`Ok encoder wrote ${p} of ${out.length} bytes`);
  return out;
}
