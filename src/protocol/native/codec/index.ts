/** The native protocol's pure codec: framing, frame decode, frame encode. No I/O. */
export { decodeFrame } from './decode.js';
export {
  DeliverBuilder,
  type ErrorInfo,
  encodeBrowseResult,
  encodeError,
  encodeFrame,
  encodeOk,
  HEARTBEAT_FRAME,
} from './encode.js';
export { FrameReader, LENGTH_PREFIX, writeLength } from './framing.js';
export { decodeMessage, encodeMessage, messageSize, propertyOf, writeMessage } from './message.js';
export { encodeOkIds } from './ok-ids.js';
export * from './types.js';
