/**
 * Turns a checked syntax tree into a tree of closures, resolved once per selector so that evaluating a
 * message does no parsing, no name lookup beyond the property read, and no allocation.
 */

import type { Message } from '../message.js';
import type { Expr } from './ast.js';
import { accessor } from './identifiers.js';
import { compileLike } from './like.js';
import {
  arithmetic,
  asNumber,
  asTruth,
  booleanFromString,
  equals,
  numberFromString,
  order,
  type Truth,
  type Value,
} from './values.js';

export type Evaluator = (message: Message) => Value;
export type Condition = (message: Message) => Truth;

export function compileExpr(e: Expr): Evaluator {
  switch (e.kind) {
    case 'literal': {
      const value = e.value;
      return () => value;
    }
    case 'ident':
      return accessor(e.name);
    case 'not':
    case 'and':
    case 'or':
    case 'compare':
    case 'between':
    case 'in':
    case 'like':
    case 'isNull':
      return compileCondition(e);
    case 'arith': {
      const { op } = e;
      const left = compileExpr(e.left);
      const right = compileExpr(e.right);
      return (m) => arithmetic(op, left(m), right(m));
    }
    case 'unary': {
      const operand = compileExpr(e.operand);
      if (e.op === '+') return (m) => asNumber(operand(m));
      return (m) => {
        const n = asNumber(operand(m));
        return n === null ? null : -n;
      };
    }
  }
}

/** An expression in a boolean position; a property that does not hold a boolean there is UNKNOWN. */
export function compileCondition(e: Expr): Condition {
  switch (e.kind) {
    case 'literal':
    case 'ident':
    case 'arith':
    case 'unary': {
      const value = compileExpr(e);
      return (m) => asTruth(value(m));
    }
    case 'not': {
      const operand = compileCondition(e.operand);
      return (m) => {
        const v = operand(m);
        return v === null ? null : !v;
      };
    }
    case 'and': {
      const left = compileCondition(e.left);
      const right = compileCondition(e.right);
      // Table 3-4: FALSE wins over UNKNOWN.
      return (m) => {
        const l = left(m);
        if (l === false) return false;
        const r = right(m);
        if (r === false) return false;
        return l === null || r === null ? null : true;
      };
    }
    case 'or': {
      const left = compileCondition(e.left);
      const right = compileCondition(e.right);
      // Table 3-5: TRUE wins over UNKNOWN.
      return (m) => {
        const l = left(m);
        if (l === true) return true;
        const r = right(m);
        if (r === true) return true;
        return l === null || r === null ? null : false;
      };
    }
    case 'compare': {
      const { op } = e;
      const left = compileExpr(e.left);
      const right = compileExpr(e.right);
      if (op === '=') return (m) => equals(left(m), right(m));
      if (op === '<>') {
        // NOT (a = b), as ActiveMQ defines it: unlike types are unequal, so '<>' is TRUE for them.
        return (m) => {
          const v = equals(left(m), right(m));
          return v === null ? null : !v;
        };
      }
      return (m) => order(op, left(m), right(m));
    }
    case 'between': {
      // §3.8.1.1 defines BETWEEN by expansion: `v >= lo AND v <= hi`; NOT BETWEEN is `v < lo OR v > hi`.
      const value = compileExpr(e.value);
      const low = compileExpr(e.low);
      const high = compileExpr(e.high);
      if (!e.negated) {
        return (m) => {
          const v = value(m);
          const ge = order('>=', v, low(m));
          if (ge === false) return false;
          const le = order('<=', v, high(m));
          if (le === false) return false;
          return ge === null || le === null ? null : true;
        };
      }
      return (m) => {
        const v = value(m);
        const lt = order('<', v, low(m));
        if (lt === true) return true;
        const gt = order('>', v, high(m));
        if (gt === true) return true;
        return lt === null || gt === null ? null : false;
      };
    }
    case 'in': {
      // §3.8.1.1: `x IN (a, b)` is `x = a OR x = b`; a NULL x makes IN and NOT IN both UNKNOWN.
      const value = compileExpr(e.value);
      const strings = new Set(e.list);
      const numbers = new Set(e.list.map(numberFromString).filter((n) => n !== null));
      const booleans = new Set(e.list.map(booleanFromString).filter((b) => b !== null));
      const hit = !e.negated;
      return (m) => {
        const v = value(m);
        if (v === null) return null;
        const found =
          typeof v === 'string' ? strings.has(v) : typeof v === 'number' ? numbers.has(v) : booleans.has(v);
        return found ? hit : !hit;
      };
    }
    case 'like': {
      // ActiveMQ: a non-string value does not match LIKE (so it does match NOT LIKE); NULL is UNKNOWN.
      const value = compileExpr(e.value);
      const matches = compileLike(e.pattern, e.escape);
      const negated = e.negated;
      return (m) => {
        const v = value(m);
        if (v === null) return null;
        return (typeof v === 'string' && matches(v)) !== negated;
      };
    }
    case 'isNull': {
      const value = compileExpr(e.value);
      const negated = e.negated;
      return (m) => (value(m) === null) !== negated;
    }
  }
}
