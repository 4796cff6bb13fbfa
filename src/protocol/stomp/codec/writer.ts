/**
 * Byte-level writers for the MESSAGE hot path: header text, numbers and ack ids go straight into a
 * slab, without building a header string first (no rope to flatten, no number-to-string conversion, and
 * no native call per short string, which costs more than the bytes).
 *
 * Every writer takes the buffer and an offset and returns the offset after what it wrote. Callers
 * reserve room first using the bounds below: a UTF-16 code unit takes at most 3 bytes in UTF-8, and an
 * escaped character (always ASCII) takes 2, so 3 bytes per code unit bounds any header text.
 */
import { escapeHeader, escapeHeaderName } from './escape.js';
import type { StompVersion } from './frame.js';

/** Bytes a header name or value may take once escaped and encoded. */
export function textBound(s: string): number {
  return s.length * 3;
}

/** Room for `String(n)` of any number (e.g. `-1.2345678901234567e-300` is 24 characters). */
export const NUMBER_BOUND = 24;

/** Writes `s`, which needs no escaping; ASCII byte by byte, anything else through the UTF-8 encoder. */
export function writeRaw(buf: Buffer, off: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return off + buf.write(i === 0 ? s : s.slice(i), off, 'utf8');
    buf[off++] = c;
  }
  return off;
}

/**
 * Writes a header name or value escaped for `version` (escape.ts has the rules): 1.2 escapes `\` LF CR
 * `:`, 1.1 all but CR, 1.0 cannot escape and replaces line breaks (and `:` in a name). Escaping works
 * character by character, so once a non-ASCII character is met the rest is escaped as a string and
 * encoded in one go.
 */
export function writeEscaped(
  buf: Buffer,
  off: number,
  s: string,
  version: StompVersion,
  name: boolean,
  /** Writes s[from..] only. */
  from = 0,
): number {
  const n = s.length;
  const v10 = version === '1.0';
  const cr = version === '1.2';
  for (let i = from; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      const rest = i === 0 ? s : s.slice(i);
      return (
        off + buf.write(name ? escapeHeaderName(rest, version) : escapeHeader(rest, version), off, 'utf8')
      );
    }
    if (c > 0x5c || (c !== 0x5c && c !== 0x0a && c !== 0x0d && c !== 0x3a)) {
      buf[off++] = c;
    } else if (v10) {
      // 1.0: no escapes exist; a ':' is only a problem in a name.
      buf[off++] = c === 0x3a ? (name ? 0x5f : c) : c === 0x5c ? c : 0x20;
    } else if (c === 0x5c) {
      buf[off++] = 0x5c;
      buf[off++] = 0x5c;
    } else if (c === 0x0a) {
      buf[off++] = 0x5c;
      buf[off++] = 0x6e;
    } else if (c === 0x3a) {
      buf[off++] = 0x5c;
      buf[off++] = 0x63;
    } else if (cr) {
      buf[off++] = 0x5c;
      buf[off++] = 0x72;
    } else {
      // 1.1 has no escape for CR and passes it through (escape.ts).
      buf[off++] = c;
    }
  }
  return off;
}

/** Writes `String(n)`: digits directly for the non-negative safe integers headers carry. */
export function writeNumber(buf: Buffer, off: number, n: number): number {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n)) return writeRaw(buf, off, String(n));
  return writeDigits(buf, off, n, 10);
}

/** Writes `n.toString(36)` for a non-negative safe integer (ack ids, ack-id.ts). */
export function writeBase36(buf: Buffer, off: number, n: number): number {
  return writeDigits(buf, off, n, 36);
}

function writeDigits(buf: Buffer, off: number, n: number, radix: number): number {
  // Small-integer arithmetic (`| 0`) is much cheaper than double division: split big numbers (epoch
  // millisecond timestamps) into a high part and a low part of exactly `LOW_DIGITS` digits.
  if (n <= 0x7fffffff) return writeSmall(buf, off, n, radix);
  const unit = radix === 10 ? 1e9 : 36 ** 5;
  const high = Math.floor(n / unit);
  off = writeDigits(buf, off, high, radix);
  let low = n - high * unit;
  const digits = radix === 10 ? 9 : 5;
  for (let i = off + digits - 1; i >= off; i--) {
    const q = (low / radix) | 0;
    const d = low - q * radix;
    buf[i] = d < 10 ? 0x30 + d : 0x57 + d;
    low = q;
  }
  return off + digits;
}

function writeSmall(buf: Buffer, off: number, n: number, radix: number): number {
  let len = 1;
  for (let x = (n / radix) | 0; x > 0; x = (x / radix) | 0) len++;
  let x = n | 0;
  for (let i = off + len - 1; i >= off; i--) {
    const q = (x / radix) | 0;
    const d = x - q * radix;
    buf[i] = d < 10 ? 0x30 + d : 0x57 + d;
    x = q;
  }
  return off + len;
}
