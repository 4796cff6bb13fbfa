/**
 * A deliberately naive interpreter of the selector tree, written apart from src/core/selector/compile.ts,
 * values.ts and like.ts (LIKE goes through a RegExp here), against which the compiled closures are checked.
 * It encodes the semantics documented in src/core/selector/index.ts.
 */
import type { Message } from '../../../src/core/message.js';
import type { Expr } from '../../../src/core/selector/ast.js';

type V = string | number | boolean | null;

const DECIMAL = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function num(v: V): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && DECIMAL.test(v)) return Number.parseFloat(v);
  return null;
}

function bool(v: V): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  return null;
}

function clean(v: unknown): V {
  if (typeof v === 'number') return Number.isNaN(v) ? null : v;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  return null;
}

function read(m: Message, name: string): V {
  const prop = (k: string): V => (Object.hasOwn(m.properties, k) ? clean(m.properties[k]) : null);
  if (name === 'JMSPriority') return clean(m.priority);
  if (name === 'JMSMessageID') return clean(m.id);
  if (name === 'JMSTimestamp') return clean(m.timestamp);
  if (name === 'JMSCorrelationID') return clean(m.correlationId);
  if (name === 'JMSDeliveryMode') return m.persistent ? 'PERSISTENT' : 'NON_PERSISTENT';
  if (name === 'JMSExpiration') return clean(m.expiration);
  if (name === 'JMSType') return prop('type') === null ? prop('JMSType') : prop('type');
  if (name === 'JMSXGroupID') return clean(m.groupId);
  if (name === 'JMSReplyTo') return clean(m.replyTo);
  if (name === 'JMSDestination') return clean(m.address);
  return prop(name);
}

const NOT: Record<string, boolean | null> = { true: false, false: true, null: null };

function and(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  if (a === null || b === null) return null;
  return true;
}

function or(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true;
  if (a === null || b === null) return null;
  return false;
}

function eq(a: V, b: V): boolean | null {
  if (a === null || b === null) return null;
  if (typeof a === typeof b) return a === b;
  const [s, other] = typeof a === 'string' ? [a, b] : typeof b === 'string' ? [b, a] : [null, null];
  if (s === null) return false;
  return typeof other === 'number' ? num(s) === other : bool(s) === other;
}

function cmp(op: string, a: V, b: V): boolean | null {
  if (a === null || b === null) return null;
  const x = num(a);
  const y = num(b);
  if (x === null || y === null) return false;
  return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
}

function likeRegExp(pattern: string, esc: string | null): RegExp {
  let src = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (esc !== null && c === esc) {
      i++;
      src += `\\u{${chars[i]!.codePointAt(0)!.toString(16)}}`;
    } else if (c === '%') src += '.*';
    else if (c === '_') src += '.';
    else src += `\\u{${c.codePointAt(0)!.toString(16)}}`;
  }
  return new RegExp(`^${src}$`, 'su');
}

export function refEval(e: Expr, m: Message): V {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'ident':
      return read(m, e.name);
    case 'not':
      return NOT[String(bool(refEval(e.operand, m)))]!;
    case 'and':
      return and(bool(refEval(e.left, m)), bool(refEval(e.right, m)));
    case 'or':
      return or(bool(refEval(e.left, m)), bool(refEval(e.right, m)));
    case 'compare': {
      const a = refEval(e.left, m);
      const b = refEval(e.right, m);
      if (e.op === '=') return eq(a, b);
      if (e.op === '<>') return NOT[String(eq(a, b))]!;
      return cmp(e.op, a, b);
    }
    case 'arith': {
      const x = num(refEval(e.left, m));
      const y = num(refEval(e.right, m));
      if (x === null || y === null) return null;
      if ((e.op === '/' || e.op === '%') && y === 0) return null;
      const r =
        e.op === '+' ? x + y : e.op === '-' ? x - y : e.op === '*' ? x * y : e.op === '/' ? x / y : x % y;
      return Number.isNaN(r) ? null : r;
    }
    case 'unary': {
      const x = num(refEval(e.operand, m));
      return x === null ? null : e.op === '-' ? -x : x;
    }
    case 'between': {
      const v = refEval(e.value, m);
      const lo = refEval(e.low, m);
      const hi = refEval(e.high, m);
      return e.negated ? or(cmp('<', v, lo), cmp('>', v, hi)) : and(cmp('>=', v, lo), cmp('<=', v, hi));
    }
    case 'in': {
      const v = refEval(e.value, m);
      if (v === null) return null;
      const found = e.list.some((item) => eq(v, item) === true);
      return e.negated ? !found : found;
    }
    case 'like': {
      const v = refEval(e.value, m);
      if (v === null) return null;
      const matched = typeof v === 'string' && likeRegExp(e.pattern, e.escape).test(v);
      return e.negated ? !matched : matched;
    }
    case 'isNull':
      return (refEval(e.value, m) === null) !== e.negated;
  }
}

/** TRUE, FALSE or UNKNOWN (null) for an expression in a condition position. */
export function refTruth(e: Expr, m: Message): boolean | null {
  return bool(refEval(e, m));
}

export function refMatches(e: Expr, m: Message): boolean {
  return refTruth(e, m) === true;
}
