/**
 * Canonical selector text for a syntax tree: fully parenthesized, keywords upper-case, so that
 * `parseSelector(formatSelector(e))` always means the same as `e`. Useful for logs, for comparing durable
 * subscriptions' selectors, and for round-trip tests.
 */
import type { Expr, Literal } from './ast.js';
import { isKeyword, PLAIN_IDENT } from './lexer.js';

export function formatSelector(e: Expr): string {
  switch (e.kind) {
    case 'literal':
      return formatLiteral(e.value);
    case 'ident':
      return PLAIN_IDENT.test(e.name) && !isKeyword(e.name) ? e.name : `"${e.name.replaceAll('"', '""')}"`;
    case 'not':
      return `(NOT ${formatSelector(e.operand)})`;
    case 'and':
    case 'or':
      return `(${formatSelector(e.left)} ${e.kind.toUpperCase()} ${formatSelector(e.right)})`;
    case 'compare':
    case 'arith':
      return `(${formatSelector(e.left)} ${e.op} ${formatSelector(e.right)})`;
    case 'unary':
      return `(${e.op}${formatSelector(e.operand)})`;
    case 'between':
      return `(${formatSelector(e.value)} ${e.negated ? 'NOT ' : ''}BETWEEN ${formatSelector(e.low)} AND ${formatSelector(e.high)})`;
    case 'in':
      return `(${formatSelector(e.value)} ${e.negated ? 'NOT ' : ''}IN (${e.list.map(formatString).join(', ')}))`;
    case 'like': {
      const escapeChar = e.escape === null ? '' : ` ESCAPE ${formatString(e.escape)}`;
      return `(${formatSelector(e.value)} ${e.negated ? 'NOT ' : ''}LIKE ${formatString(e.pattern)}${escapeChar})`;
    }
    case 'isNull':
      return `(${formatSelector(e.value)} IS ${e.negated ? 'NOT ' : ''}NULL)`;
  }
}

function formatString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function formatLiteral(v: Literal): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return formatString(v);
  // Literals are never negative (the sign is an operator); an overflowed literal such as 1E999 stays one.
  if (v === Number.POSITIVE_INFINITY) return '1E999';
  // String(n) is the shortest text that reads back as n, and its forms (`12`, `0.5`, `1e+21`, `5e-7`) are
  // all selector numerals.
  return String(v);
}
