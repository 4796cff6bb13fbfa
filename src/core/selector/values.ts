/**
 * Run-time value semantics shared by every compiled operator. A selector value is a property value: string,
 * number, boolean, or null for NULL / missing / UNKNOWN. Conditions use SQL three-valued logic, with null
 * standing for UNKNOWN (JMS 2.0 §3.8.1.2 and its tables 3-4 to 3-6).
 */
import type { ArithOp, CompareOp } from './ast.js';

export type Value = string | number | boolean | null;
/** TRUE, FALSE or UNKNOWN (null). */
export type Truth = boolean | null;

/** Decimal numbers as producers write them: `12`, `-3.5`, `.5`, `1e3`. No hex, no blanks, no `NaN`/`Infinity`. */
const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function numberFromString(s: string): number | null {
  return NUMERIC.test(s) ? Number(s) : null;
}

export function booleanFromString(s: string): boolean | null {
  if (s.length === 4 && s.toLowerCase() === 'true') return true;
  if (s.length === 5 && s.toLowerCase() === 'false') return false;
  return null;
}

/**
 * Anything a message can hold, reduced to a selector value: NaN, undefined and non-scalar junk become NULL
 * so that no later operator has to defend against them.
 */
export function normalize(v: unknown): Value {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isNaN(v) ? null : v;
    default:
      return null;
  }
}

/** The number an operand stands for in arithmetic and ordering, or null when it has none. */
export function asNumber(v: Value): number | null {
  if (typeof v === 'number') return v;
  return typeof v === 'string' ? numberFromString(v) : null;
}

/** A value used where a condition is required; anything but a boolean (or 'true'/'false') is UNKNOWN. */
export function asTruth(v: Value): Truth {
  if (typeof v === 'boolean') return v;
  return typeof v === 'string' ? booleanFromString(v) : null;
}

/**
 * `=`. NULL on either side is UNKNOWN. Values of unlike types are unequal ("if the comparison of non-like
 * type values is attempted, the value of the operation is false", §3.8.1.2), except for BlazeMQ's
 * conversion of a numeric-looking string to a number and of 'true'/'false' to a boolean.
 */
export function equals(a: Value, b: Value): Truth {
  if (a === null || b === null) return null;
  if (typeof a === typeof b) return a === b;
  if (typeof a === 'string') return mixedEquals(b as number | boolean, a);
  if (typeof b === 'string') return mixedEquals(a, b);
  return false;
}

function mixedEquals(v: number | boolean, s: string): boolean {
  return typeof v === 'number' ? numberFromString(s) === v : booleanFromString(s) === v;
}

/** `<` `<=` `>` `>=`: numbers only (§3.8.1.2); an operand with no numeric value makes the result FALSE. */
export function order(op: CompareOp, a: Value, b: Value): Truth {
  if (a === null || b === null) return null;
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === null || y === null) return false;
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    default:
      return equals(x, y);
  }
}

/**
 * Arithmetic in IEEE doubles: a Message carries JS numbers, so there is no exact/approximate distinction to
 * keep and `7 / 2` is 3.5, not Java's integer 3. Non-numeric or NULL operands, division or modulo by zero,
 * and NaN results are all UNKNOWN.
 */
export function arithmetic(op: ArithOp, a: Value, b: Value): number | null {
  const x = asNumber(a);
  if (x === null) return null;
  const y = asNumber(b);
  if (y === null) return null;
  let r: number;
  switch (op) {
    case '+':
      r = x + y;
      break;
    case '-':
      r = x - y;
      break;
    case '*':
      r = x * y;
      break;
    case '/':
      if (y === 0) return null;
      r = x / y;
      break;
    case '%':
      if (y === 0) return null;
      r = x % y;
      break;
  }
  return Number.isNaN(r) ? null : r;
}
