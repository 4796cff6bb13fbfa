/**
 * Every error the project raises on purpose is a BlazeError with a stable `code`, so that protocol
 * adapters can map it to their own error reporting (STOMP ERROR frame, MQTT reason code, HTTP status)
 * without parsing messages. `instanceof` is not relied upon across bundles: check `isBlazeError`.
 */
export type ErrorCode =
  | 'BAD_REQUEST' // malformed input from a client
  | 'UNAUTHENTICATED' // login refused
  | 'FORBIDDEN' // authenticated but not allowed on that address
  | 'NOT_FOUND' // unknown transaction, subscription, delivery tag...
  | 'CONFLICT' // e.g. durable subscription already active, duplicate transaction id
  | 'LIMIT_EXCEEDED' // frame/header/connection/memory limits
  | 'INVALID_SELECTOR'
  | 'INVALID_ADDRESS'
  | 'CLOSED' // operation on a closed connection/subscription/broker
  | 'CONFIG' // invalid configuration
  | 'STORE' // storage failure
  | 'XA_NOTA' // XA: unknown transaction branch (XAER_NOTA)
  | 'XA_PROTO' // XA: call not allowed in the branch's state (XAER_PROTO)
  | 'XA_RBROLLBACK' // XA: the branch was rolled back instead (XA_RBROLLBACK)
  | 'XA_DUPID' // XA: the branch already exists (XAER_DUPID)
  | 'PROTOCOL' // a frame that breaks its wire format (undecodable, out of sequence)
  | 'NOT_SUPPORTED' // a valid request this broker does not implement (yet)
  | 'INTERNAL';

export class BlazeError extends Error {
  readonly code: ErrorCode;
  readonly blaze = true;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'BlazeError';
  }
}

export function isBlazeError(e: unknown): e is BlazeError {
  return typeof e === 'object' && e !== null && (e as { blaze?: unknown }).blaze === true;
}
