/**
 * Turning any failure into the ERROR frame that precedes closing the connection (1.2 "ERROR": the server
 * MUST close the connection just after sending it; `message` is a short description, the body details it,
 * `receipt-id` names the frame that caused it if that frame asked for a receipt).
 */
import { BlazeError, type ErrorCode, isBlazeError } from '../../util/errors.js';
import { isStompCodecError } from './codec/errors.js';
import type { OutgoingFrame } from './codec/frame.js';

/** A protocol error that needs headers of its own on the ERROR frame (e.g. `version` on a failed CONNECT). */
export class StompRequestError extends BlazeError {
  readonly extraHeaders: Readonly<Record<string, string>>;
  constructor(code: ErrorCode, message: string, extraHeaders: Record<string, string> = {}) {
    super(code, message);
    this.extraHeaders = extraHeaders;
    this.name = 'StompRequestError';
  }
}

export function badRequest(message: string): BlazeError {
  return new BlazeError('BAD_REQUEST', message);
}

export function missingHeader(command: string, header: string): BlazeError {
  return new BlazeError('BAD_REQUEST', `The ${command} frame requires a '${header}' header`);
}

const MAX_MESSAGE_HEADER = 256;

/** True when the error is the client's doing (or the broker's policy), not a bug worth an error log. */
export function isExpectedError(e: unknown): boolean {
  return isBlazeError(e) && e.code !== 'INTERNAL';
}

export function errorFrame(
  error: unknown,
  command: string | undefined,
  receipt: string | undefined,
): OutgoingFrame {
  let message: string;
  let detail: string;
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  if (isStompCodecError(error)) {
    message = error.message;
    detail = `Malformed or oversized frame (${error.reason}): ${error.message}`;
  } else if (isBlazeError(error)) {
    message = error.message;
    const what = command ? `The ${command} frame was refused` : 'The connection was closed';
    detail = `${what}: ${error.message} [${error.code}]`;
    if (error instanceof StompRequestError) Object.assign(headers, error.extraHeaders);
  } else {
    message = 'Internal error';
    detail = command ? `The broker failed while processing a ${command} frame.` : 'The broker failed.';
  }
  headers['message'] = oneLine(message);
  if (receipt !== undefined) headers['receipt-id'] = receipt;
  headers['content-type'] = 'text/plain';
  return { command: 'ERROR', headers, body: detail + '\n' };
}

function oneLine(s: string): string {
  const flat = s.replace(/[\r\n]+/g, ' ');
  return flat.length > MAX_MESSAGE_HEADER ? flat.slice(0, MAX_MESSAGE_HEADER - 3) + '...' : flat;
}
