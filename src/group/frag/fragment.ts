/**
 * Splitting a message into fragments that each fit `maxSize` bytes once encoded. This runs ABOVE the
 * reliability layer (JGroups FRAG2's position): each fragment becomes one reliable message, so a lost
 * datagram costs one fragment's retransmission, not the whole message's.
 */
import { BlazeError } from '../../util/errors.js';
import { encodeFragment, type Fragment, fragmentSize } from './codec.js';

/**
 * Encoded fragments of `payload`, in order; each is at most `maxSize` bytes. `msgId` must be unique per
 * sender among messages whose fragments may be in flight together (a counter is the usual choice).
 * Every fragment but the last carries the same amount of data. An empty payload gives one fragment.
 */
export function fragment(msgId: number, payload: Uint8Array, maxSize: number): Uint8Array[] {
  if (!Number.isSafeInteger(msgId) || msgId < 0) {
    throw new BlazeError('BAD_REQUEST', `fragment msgId must be a non-negative safe integer: ${msgId}`);
  }
  const total = payload.length;
  if (total > 0xffffffff) throw new BlazeError('LIMIT_EXCEEDED', `message of ${total} bytes is too large`);
  // Header bound: index < count <= max(total, 1), so every numeric field fits in varintSize(total).
  const bound = Math.max(total, 1);
  const header = fragmentSize(msgId, bound, bound, total, maxSize) - maxSize;
  const chunk = maxSize - header;
  if (chunk < 1) throw new BlazeError('CONFIG', `fragment size ${maxSize} leaves no room for data`);
  const count = Math.max(1, Math.ceil(total / chunk));
  const out: Uint8Array[] = new Array(count);
  for (let index = 0; index < count; index++) {
    const data = payload.subarray(index * chunk, Math.min(total, (index + 1) * chunk));
    const f: Fragment = { msgId, index, count, totalSize: total, data };
    out[index] = encodeFragment(f);
  }
  return out;
}
