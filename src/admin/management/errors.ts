/**
 * Errors of the management API: every failure is answered `{"error": text, "code": BlazeError code}` with
 * a status (docs/MANAGEMENT.md), so that scripts and the console branch on `code`, never on text.
 */
import { HttpError } from '../../protocol/http/errors.js';
import { type ErrorCode, isBlazeError } from '../../util/errors.js';

export interface AdminErrorBody {
  readonly error: string;
  readonly code: ErrorCode;
}

export interface AdminFailure {
  readonly status: number;
  readonly body: AdminErrorBody;
  readonly headers: Readonly<Record<string, string>>;
}

const STATUS_OF_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  BAD_REQUEST: 400,
  INVALID_ADDRESS: 400,
  INVALID_SELECTOR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  LIMIT_EXCEEDED: 503,
  CLOSED: 503,
  NOT_SUPPORTED: 501,
};

/** The BlazeError code an HTTP-layer status stands for (auth and body errors are HttpErrors). */
function codeOfStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'LIMIT_EXCEEDED';
    case 503:
      return 'CLOSED';
    default:
      return status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
  }
}

/** Status, body and headers for anything thrown while serving a request; unknown errors are a 500. */
export function toAdminFailure(err: unknown): AdminFailure {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      body: { error: err.message, code: codeOfStatus(err.status) },
      headers: err.headers,
    };
  }
  if (isBlazeError(err)) {
    const status = STATUS_OF_CODE[err.code] ?? 500;
    const error = status === 500 ? 'internal error' : err.message;
    return { status, body: { error, code: status === 500 ? 'INTERNAL' : err.code }, headers: {} };
  }
  return { status: 500, body: { error: 'internal error', code: 'INTERNAL' }, headers: {} };
}

/** A request the API refuses before doing anything: 400 BAD_REQUEST with `message`. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, message);
}
