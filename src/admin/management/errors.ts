/**
 * Errors of the management API: every failure is answered `{"error": text, "code": BlazeError code}` with
 * a status (docs/MANAGEMENT.md), by the HTTP endpoints' shared mapping (protocol/http/errors.ts), so that
 * scripts and the console branch on `code`, never on text.
 */
import { HttpError } from '../../protocol/http/errors.js';

/** A request the API refuses before doing anything: 400 BAD_REQUEST with `message`. */
export function badRequest(message: string): HttpError {
  return new HttpError(400, message);
}
