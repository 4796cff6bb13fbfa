/**
 * The native codec's only failure: a BlazeError whose code says what the peer did wrong. PROTOCOL for
 * bytes that are not a valid frame (bad varint, truncated field, wrong wire type), LIMIT_EXCEEDED for a
 * length above the negotiated maximum. A session turns either into a fatal Error frame and closes.
 */
import { BlazeError } from '../../../util/errors.js';

export function malformed(what: string): BlazeError {
  return new BlazeError('PROTOCOL', `malformed frame: ${what}`);
}

export function tooLarge(size: number, limit: number): BlazeError {
  return new BlazeError('LIMIT_EXCEEDED', `frame of ${size} bytes exceeds the maximum of ${limit}`);
}
