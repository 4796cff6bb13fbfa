export { StompDecoder, type StompDecoderOptions } from './decoder.js';
export { encodeFrame, FrameAllocator, HEARTBEAT } from './encoder.js';
export { isStompCodecError, StompCodecError, type StompCodecReason } from './errors.js';
export { escapeHeader, escapeHeaderName, unescapeHeader } from './escape.js';
export {
  emptyHeaders,
  type HeaderInput,
  type OutgoingFrame,
  STOMP_VERSIONS,
  type StompFrame,
  type StompHeaders,
  type StompVersion,
} from './frame.js';
export { DEFAULT_STOMP_LIMITS, resolveLimits, type StompLimits } from './limits.js';
