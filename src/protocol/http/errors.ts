/**
 * Errors of the HTTP messaging endpoints: an HTTP status and a short reason, sent as `{"error": reason}`.
 * Core errors (BlazeError with a stable code) map to statuses here, in one place.
 */
import { isBlazeError } from '../../util/errors.js';

export class HttpError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  BAD_REQUEST: 400,
  INVALID_ADDRESS: 400,
  INVALID_SELECTOR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  // A memory or depth limit of the broker: the client may retry later.
  LIMIT_EXCEEDED: 503,
  CLOSED: 503,
};

/** The status and reason for anything thrown while serving a request; unknown errors are a 500. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (isBlazeError(err)) {
    const status = STATUS_OF_CODE[err.code];
    if (status !== undefined) return new HttpError(status, err.message);
  }
  return new HttpError(500, 'internal error');
}
