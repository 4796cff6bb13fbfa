/**
 * STOMP frames as plain data (STOMP 1.2 "STOMP Frames"):
 *
 *   COMMAND EOL *( header EOL ) EOL body NUL *( EOL )
 *
 * EOL is LF, optionally preceded by CR (1.2). Headers are `name:value`; a name repeated in one frame keeps
 * its FIRST value (1.2 "Repeated Header Entries"), so decoded headers are a plain record.
 */

export type StompVersion = '1.0' | '1.1' | '1.2';

export const STOMP_VERSIONS: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

/** Header record with a null prototype: a header named `__proto__` or `constructor` is just data. */
export type StompHeaders = Record<string, string>;

export interface StompFrame {
  readonly command: string;
  readonly headers: StompHeaders;
  /** Zero-copy slice of the input when the body arrived in one chunk. */
  readonly body: Buffer;
}

/** What the encoder accepts: a record, or ordered pairs when repeats/order matter (tests, golden bytes). */
export type HeaderInput = Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;

export interface OutgoingFrame {
  readonly command: string;
  readonly headers?: HeaderInput;
  readonly body?: Uint8Array | string;
}

/**
 * A header record whose prototype is an empty null-prototype object: like `Object.create(null)` no key is
 * inherited (`__proto__`, `constructor` are plain data), but unlike it the record starts in V8's fast
 * mode, so frames with the same header names share a hidden class and lookups are inline-cached.
 */
const HeaderRecord = function HeaderRecord() {} as unknown as new () => StompHeaders;
HeaderRecord.prototype = Object.create(null) as object;

export function emptyHeaders(): StompHeaders {
  return new HeaderRecord();
}

/** CONNECT, STOMP and CONNECTED are never escaped (1.2 "Value Encoding"): they predate version agreement. */
export function isUnescapedCommand(command: string): boolean {
  return command === 'CONNECT' || command === 'CONNECTED' || command === 'STOMP';
}
