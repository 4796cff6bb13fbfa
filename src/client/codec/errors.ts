/**
 * The client's error: a stable machine-readable `code` (the broker's Error.code for answers from the
 * broker: FORBIDDEN, NOT_FOUND, XA_*...; the client's own codes below), shaped like the broker's
 * BlazeError (`blaze: true`, so `isBlazeError` recognises it across bundles). The broker's ErrorCode union
 * is closed; the client must carry any code a newer broker sends, hence `string`.
 */
export const ClientCodes = {
  /** Bytes that are not a valid native frame, or a frame over the size limit. */
  PROTOCOL: 'PROTOCOL',
  /** The connection closed (or failed over) before the broker answered. */
  CONNECTION_LOST: 'CONNECTION_LOST',
  /** The client (or the object used) was closed. */
  CLOSED: 'CLOSED',
  TIMEOUT: 'TIMEOUT',
  ABORTED: 'ABORTED',
  /** Transaction work was lost with a connection; commit reports it rolled back (JMS). */
  TRANSACTION_ROLLED_BACK: 'TRANSACTION_ROLLED_BACK',
  /** Reconnection gave up (maxReconnectAttempts). */
  RECONNECT_FAILED: 'RECONNECT_FAILED',
  BAD_URL: 'BAD_URL',
  ILLEGAL_STATE: 'ILLEGAL_STATE',
} as const;

export class ClientError extends Error {
  readonly code: string;
  readonly blaze = true;
  /** True when the broker closed the connection after reporting it. */
  readonly fatal: boolean;
  constructor(code: string, message: string, options?: { cause?: unknown; fatal?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fatal = options?.fatal ?? false;
    this.name = 'ClientError';
  }
}

export function isClientError(e: unknown): e is ClientError {
  return typeof e === 'object' && e !== null && (e as { blaze?: unknown }).blaze === true;
}
