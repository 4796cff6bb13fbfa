/**
 * Header escaping (STOMP 1.2 "Value Encoding"; 1.1 "Value Encoding").
 *
 *   1.0  no escaping at all: a value cannot carry LF, a name cannot carry ':'.
 *   1.1  \n (LF), \c (':'), \\ ('\')
 *   1.2  adds \r (CR). Any other escape is a fatal protocol error.
 *
 * Names and values are escaped alike. CONNECT/CONNECTED frames are never escaped (the caller decides).
 */
import { StompCodecError } from './errors.js';
import type { StompVersion } from './frame.js';

const NEEDS_ESCAPE_11 = /[\\\n:]/;
const NEEDS_ESCAPE_12 = /[\\\r\n:]/;
const NEEDS_SANITIZE_VALUE_10 = /[\r\n]/;
const NEEDS_SANITIZE_NAME_10 = /[\r\n:]/;

export function escapeHeader(s: string, version: StompVersion): string {
  if (version === '1.2') return NEEDS_ESCAPE_12.test(s) ? escapeSlow(s, true) : s;
  if (version === '1.1') return NEEDS_ESCAPE_11.test(s) ? escapeSlow(s, false) : s;
  return sanitize10(s, false);
}

export function escapeHeaderName(s: string, version: StompVersion): string {
  return version === '1.0' ? sanitize10(s, true) : escapeHeader(s, version);
}

/**
 * 1.0 has no way to carry these characters: replace them (by a space, or '_' for ':' in a name) rather than
 * emit a frame the peer would split into bogus headers.
 */
export function sanitize10(s: string, name: boolean): string {
  if (name) return NEEDS_SANITIZE_NAME_10.test(s) ? s.replace(/[\r\n]/g, ' ').replace(/:/g, '_') : s;
  return NEEDS_SANITIZE_VALUE_10.test(s) ? s.replace(/[\r\n]/g, ' ') : s;
}

function escapeSlow(s: string, cr: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x3a) out += '\\c';
    else if (c === 0x0d && cr) out += '\\r';
    else out += s[i];
  }
  return out;
}

/** Throws StompCodecError('invalid-escape') on an undefined escape or a trailing backslash (1.2). */
export function unescapeHeader(s: string, version: StompVersion): string {
  if (version === '1.0' || s.indexOf('\\') === -1) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x5c) {
      out += s[i];
      continue;
    }
    const next = s[++i];
    if (next === 'n') out += '\n';
    else if (next === 'c') out += ':';
    else if (next === '\\') out += '\\';
    // \r is 1.2 only; accepted from 1.1 peers too since it is unambiguous.
    else if (next === 'r') out += '\r';
    else {
      throw new StompCodecError(
        'invalid-escape',
        `Undefined escape sequence '\\${next ?? ''}' in a header (STOMP ${version} "Value Encoding")`,
      );
    }
  }
  return out;
}
