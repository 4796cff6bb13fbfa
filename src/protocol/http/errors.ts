/**
 * Errors of the HTTP endpoints: an HTTP status, a short reason and a stable code, sent as
 * `{"error": reason, "code": code}` (the management contract's error shape, used by every endpoint).
 * Core errors (BlazeError with a stable code) map to statuses here, in one place.
 */
import { isBlazeError } from '../../util/errors.js';

/** The BlazeError code an HTTP status stands for when the error did not come with one. */
const CODE_OF_STATUS: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'BAD_REQUEST',
  409: 'CONFLICT',
  413: 'LIMIT_EXCEEDED',
  415: 'BAD_REQUEST',
  503: 'LIMIT_EXCEEDED',
};

export class HttpError extends Error {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly code: string;
  /** Extra fields for the JSON body (e.g. the unknown receipts of a 404). */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    status: number,
    message: string,
    headers: Record<string, string> = {},
    code?: string,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
    this.code = code ?? CODE_OF_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
    this.details = details;
  }
}

const STATUS_OF_CODE: Readonly<Record<string, number>> = {
  BAD_REQUEST: 400,
  INVALID_ADDRESS: 400,
  INVALID_SELECTOR: 400,
  PROTOCOL: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  NOT_SUPPORTED: 501,
  // A memory or depth limit of the broker: the client may retry later.
  LIMIT_EXCEEDED: 503,
  CLOSED: 503,
};

/** The status and reason for anything thrown while serving a request; unknown errors are a 500. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (isBlazeError(err)) {
    const status = STATUS_OF_CODE[err.code];
    if (status !== undefined) return new HttpError(status, err.message, {}, err.code);
  }
  return new HttpError(500, 'internal error', {}, 'INTERNAL');
}

/** The JSON body of an error response. */
export function errorBody(e: HttpError): Record<string, unknown> {
  return { error: e.message, code: e.code, ...e.details };
}
