/**
 * LIKE patterns (JMS 2.0 §3.8.1.1: `_` is any single character, `%` any sequence including the empty one,
 * an optional ESCAPE character makes the next `_`, `%` or itself literal).
 *
 * Deliberately not a RegExp: a pattern such as `%a%a%a%a%b` turns into a backtracking regex whose cost is
 * polynomial in the value length with the number of `%` as the exponent, and any client may submit one.
 * Splitting the pattern at `%` and finding each fixed-length segment at its leftmost position is exact
 * (leftmost placement leaves the most room for the rest) and costs at most O(value × pattern).
 */

/** One pattern position: a literal character (a full code point), or null for `_`. */
type Segment = readonly (string | null)[];

export type LikeMatcher = (value: string) => boolean;

const SURROGATE = /[\uD800-\uDFFF]/;

/** Splits the pattern at unescaped `%`. The parser has already rejected a misused escape character. */
export function likeSegments(pattern: string, escapeChar: string | null): Segment[] {
  const segments: Segment[] = [];
  let current: (string | null)[] = [];
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === escapeChar && i + 1 < chars.length) {
      current.push(chars[++i]!);
    } else if (c === '%') {
      segments.push(current);
      current = [];
    } else {
      current.push(c === '_' ? null : c);
    }
  }
  segments.push(current);
  return segments;
}

export function compileLike(pattern: string, escapeChar: string | null): LikeMatcher {
  const segments = likeSegments(pattern, escapeChar);
  if (segments.every((s) => !s.includes(null))) {
    return literalMatcher(segments.map((s) => s.join('')));
  }
  return wildcardMatcher(segments);
}

/** No `_`: plain string searches, which need no code-point splitting of the value. */
function literalMatcher(parts: string[]): LikeMatcher {
  if (parts.length === 1) {
    const exact = parts[0]!;
    return (s) => s === exact;
  }
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  const minLength = parts.reduce((n, p) => n + p.length, 0);
  if (middle.length === 0) {
    return (s) => s.length >= minLength && s.startsWith(first) && s.endsWith(last);
  }
  return (s) => {
    if (s.length < minLength || !s.startsWith(first) || !s.endsWith(last)) return false;
    const limit = s.length - last.length;
    let at = first.length;
    for (const part of middle) {
      const found = s.indexOf(part, at);
      if (found < 0 || found + part.length > limit) return false;
      at = found + part.length;
    }
    return true;
  };
}

/** With `_`, which matches one code point: split the value into code points only when it has surrogates. */
function wildcardMatcher(segments: Segment[]): LikeMatcher {
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  const middle = segments.slice(1, -1).filter((s) => s.length > 0);
  const single = segments.length === 1;
  return (s) => {
    const chars: ArrayLike<string> = SURROGATE.test(s) ? Array.from(s) : s;
    const n = chars.length;
    if (single) return n === first.length && matchesAt(chars, 0, first);
    const limit = n - last.length;
    if (limit < first.length || !matchesAt(chars, 0, first) || !matchesAt(chars, limit, last)) return false;
    let at = first.length;
    for (const segment of middle) {
      const found = leftmost(chars, at, limit, segment);
      if (found < 0) return false;
      at = found + segment.length;
    }
    return true;
  };
}

function matchesAt(chars: ArrayLike<string>, at: number, segment: Segment): boolean {
  for (let k = 0; k < segment.length; k++) {
    const c = segment[k];
    if (c !== null && chars[at + k] !== c) return false;
  }
  return true;
}

/** Leftmost start >= from at which the segment fits entirely before `limit`, or -1. */
function leftmost(chars: ArrayLike<string>, from: number, limit: number, segment: Segment): number {
  for (let at = from; at + segment.length <= limit; at++) {
    if (matchesAt(chars, at, segment)) return at;
  }
  return -1;
}
