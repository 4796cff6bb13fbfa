import { BlazeError, type ErrorCode } from '../../../util/errors.js';

/** Why the codec refused the input; stable, for tests and metrics. */
export type StompCodecReason =
  | 'frame-too-large'
  | 'body-too-large'
  | 'command-too-long'
  | 'header-line-too-long'
  | 'too-many-headers'
  | 'malformed-header'
  | 'invalid-escape'
  | 'invalid-content-length'
  | 'missing-nul'
  | 'empty-command';

/**
 * The only error the decoder throws. `code` is LIMIT_EXCEEDED for size/count limits and BAD_REQUEST for
 * malformed input; the session turns it into an ERROR frame and closes the connection.
 */
export class StompCodecError extends BlazeError {
  readonly reason: StompCodecReason;
  constructor(reason: StompCodecReason, message: string) {
    super(codeFor(reason), message);
    this.reason = reason;
    this.name = 'StompCodecError';
  }
}

function codeFor(reason: StompCodecReason): ErrorCode {
  switch (reason) {
    case 'frame-too-large':
    case 'body-too-large':
    case 'command-too-long':
    case 'header-line-too-long':
    case 'too-many-headers':
      return 'LIMIT_EXCEEDED';
    default:
      return 'BAD_REQUEST';
  }
}

export function isStompCodecError(e: unknown): e is StompCodecError {
  return e instanceof StompCodecError;
}
