import { describe, expect, it } from 'vitest';
import {
  compileSelector,
  MAX_SELECTOR_DEPTH,
  MAX_SELECTOR_LENGTH,
  SelectorError,
} from '../../../src/core/selector/index.js';
import { parseSelector } from '../../../src/core/selector/parser.js';
import { formatSelector } from '../../../src/core/selector/print.js';
import { isBlazeError } from '../../../src/util/errors.js';
import { message } from './helpers.js';

const canonical = (s: string): string => formatSelector(parseSelector(s));

describe('precedence and associativity, shown by the canonical form', () => {
  it.each([
    ['a OR b AND c', '(a OR (b AND c))'],
    ['a AND b OR c', '((a AND b) OR c)'],
    ['a OR b OR c', '((a OR b) OR c)'],
    ['NOT a AND b', '((NOT a) AND b)'],
    ['NOT a = 1', '(NOT (a = 1))'],
    ['NOT NOT a', '(NOT (NOT a))'],
    ['a = 1 AND NOT b < 2 OR c', '(((a = 1) AND (NOT (b < 2))) OR c)'],
    ['a + b * c = d', '((a + (b * c)) = d)'],
    ['a - b - c > 0', '(((a - b) - c) > 0)'],
    ['a / b % c * d >= 0', '((((a / b) % c) * d) >= 0)'],
    ['-a * b < 0', '(((-a) * b) < 0)'],
    ['- - a <> 0', '((-(-a)) <> 0)'],
    ['+a = 0', '((+a) = 0)'],
    ['a BETWEEN b + 1 AND c * 2', '(a BETWEEN (b + 1) AND (c * 2))'],
    ['a NOT BETWEEN 1 AND 2 OR b', '((a NOT BETWEEN 1 AND 2) OR b)'],
    ["a NOT IN ('x', 'y''z') AND b", "((a NOT IN ('x', 'y''z')) AND b)"],
    ["a LIKE 'x!%' ESCAPE '!' OR b", "((a LIKE 'x!%' ESCAPE '!') OR b)"],
    ['a + 1 IS NOT NULL', '((a + 1) IS NOT NULL)'],
    ['(a OR b) AND c', '((a OR b) AND c)'],
    ['((((a))))', 'a'],
    ['a = 0x10 OR b = 010 OR c = 1.5E1', '(((a = 16) OR (b = 8)) OR (c = 15))'],
    ['"x y" = 1 AND "and" = 2', '(("x y" = 1) AND ("and" = 2))'],
    ['true AND false OR null', '((TRUE AND FALSE) OR NULL)'],
  ])('%s', (input, expected) => {
    expect(canonical(input)).toBe(expected);
    expect(canonical(expected)).toBe(expected);
  });
});

function rejection(selector: string): SelectorError {
  try {
    compileSelector(selector);
  } catch (e) {
    expect(isBlazeError(e)).toBe(true);
    expect(e).toBeInstanceOf(SelectorError);
    expect((e as SelectorError).code).toBe('INVALID_SELECTOR');
    return e as SelectorError;
  }
  throw new Error(`accepted: ${selector}`);
}

describe('invalid selectors name the column and the problem', () => {
  it.each<[string, number, string]>([
    // Lexical.
    ["a = 'abc", 4, 'unterminated string literal'],
    ['"abc = 1', 0, 'unterminated quoted identifier'],
    ['"" = 1', 0, 'empty quoted identifier'],
    ['a = 1 /* x', 6, 'unterminated comment'],
    ['a = 08', 4, "invalid octal literal '08'"],
    ['a = 0x', 4, 'hexadecimal literal has no digits'],
    ['a = 1e', 4, 'exponent has no digits'],
    ['a = 1.2.3', 4, 'invalid numeric literal'],
    ['a = 12abc', 4, "invalid numeric literal '12a'"],
    ['a=1AND b=2', 2, 'invalid numeric literal'],
    ['a = 1.5L', 4, 'invalid numeric literal'],
    ['a != 1', 2, "'!=' is not a selector operator (use '<>')"],
    ['a = #', 4, "unexpected '#'"],
    ['a = 1 ; b', 6, "unexpected ';'"],
    ['a\u0000= 1', 1, 'unexpected character U+0000'],
    ['a\u00a0= 1', 1, "unexpected '\u00a0'"],
    // Syntax.
    ['a =', 3, 'unexpected end of selector; expected an expression'],
    ['= 1', 0, "unexpected '='; expected an expression"],
    ['a = 1 b = 2', 6, "unexpected 'b'; expected an operator or the end"],
    ['a = 1 AND', 9, 'unexpected end of selector'],
    ['(a = 1', 6, "expected ')' in parenthesized expression, found end of selector"],
    ['a = 1)', 5, "unexpected ')'"],
    ['()', 1, "unexpected ')'"],
    ['a = b = c', 6, 'comparisons cannot be chained'],
    ['a < b < c', 6, 'comparisons cannot be chained'],
    ['a BETWEEN 1 AND 2 = TRUE', 18, 'comparisons cannot be chained'],
    ['a BETWEEN 1 OR 2', 12, 'expected AND in BETWEEN … AND'],
    ['a NOT NULL', 6, 'expected BETWEEN, IN or LIKE after NOT'],
    ['a IS NUL', 5, 'expected NULL in IS NULL'],
    ['a IS NOT 1', 9, 'expected NULL in IS NOT NULL'],
    ['a IN ()', 6, 'IN expects a string literal'],
    ['a IN (1, 2)', 6, 'IN expects a string literal'],
    ["a IN ('x' 'y')", 10, "expected ')' in IN list"],
    ["a IN 'x'", 5, "expected '(' in IN"],
    ['a LIKE b', 7, 'LIKE expects a string literal'],
    ["a LIKE 'x' ESCAPE 'ab'", 18, 'ESCAPE must be exactly one character'],
    ["a LIKE 'x' ESCAPE ''", 18, 'ESCAPE must be exactly one character'],
    ["a LIKE 'x!' ESCAPE '!'", 7, "ESCAPE '!' must be followed by %, _ or itself"],
    ["a LIKE '!a' ESCAPE '!'", 7, "ESCAPE '!' must be followed by %, _ or itself"],
    ['a = NOT b', 4, "unexpected 'NOT'"],
    ['a AND OR b', 6, "unexpected 'OR'"],
    ['ESCAPE = 1', 0, "unexpected 'ESCAPE'"],
    // Semantic checks (JMS 2.0 §3.8.1.1 and ActiveMQ's).
    ['1', 0, 'the selector must be a condition, not a number'],
    ["'abc'", 0, 'the selector must be a condition, not a string'],
    ['a + 1', 2, 'the selector must be a condition, not a number'],
    ['a AND 1', 6, 'AND needs a boolean operand, found a number'],
    ["'x' OR a", 0, 'OR needs a boolean operand, found a string'],
    ['NOT 5', 4, 'NOT needs a boolean operand, found a number'],
    ['a = NULL', 4, "'=' with NULL is never true; use IS NULL"],
    ['NULL <> a', 0, "'<>' with NULL is never true"],
    ["a > 'x'", 4, "'>' needs a numeric operand, found a string"],
    ['TRUE <= a', 0, "'<=' needs a numeric operand, found a boolean"],
    ['(a = 1) < 2', 3, "'<' needs a numeric operand, found a boolean"],
    ['a < NULL', 4, "'<' needs a numeric operand, found NULL"],
    ["1 = 'x'", 2, 'cannot compare a number with a string'],
    ['TRUE = 1', 5, 'cannot compare a boolean with a number'],
    ["a + 'x' > 1", 4, "'+' needs a numeric operand, found a string"],
    ['a * TRUE > 1', 4, "'*' needs a numeric operand, found a boolean"],
    ['NULL - a > 1', 0, "'-' needs a numeric operand, found NULL"],
    ["-'x' = a", 1, "unary '-' needs a numeric operand"],
    ["a BETWEEN 'x' AND 2", 10, 'BETWEEN needs a numeric operand, found a string'],
    ["1 IN ('1')", 0, 'IN needs a string operand, found a number'],
    ["(a = 1) LIKE 'x'", 3, 'LIKE needs a string operand, found a boolean'],
  ])('%s', (selector, offset, problem) => {
    const e = rejection(selector);
    expect(e.offset).toBe(offset);
    expect(e.message).toContain(problem);
    expect(e.message).toContain(`at column ${offset + 1}`);
  });
});

describe('limits', () => {
  it('rejects a selector longer than MAX_SELECTOR_LENGTH', () => {
    const long = `a = '${'x'.repeat(MAX_SELECTOR_LENGTH)}'`;
    expect(rejection(long).message).toContain(`longer than ${MAX_SELECTOR_LENGTH} characters`);
  });

  it('accepts a selector of exactly MAX_SELECTOR_LENGTH', () => {
    const prefix = "a = '";
    const s = `${prefix}${'x'.repeat(MAX_SELECTOR_LENGTH - prefix.length - 1)}'`;
    expect(s.length).toBe(MAX_SELECTOR_LENGTH);
    expect(compileSelector(s)(message({ a: 'x'.repeat(MAX_SELECTOR_LENGTH - 6) }))).toBe(true);
  });

  it('rejects nesting deeper than MAX_SELECTOR_DEPTH, for parentheses, NOT and signs alike', () => {
    const depth = MAX_SELECTOR_DEPTH + 1;
    expect(rejection(`${'('.repeat(depth)}a${')'.repeat(depth)}`).message).toContain('nesting deeper');
    expect(rejection(`${'NOT '.repeat(depth)}a`).message).toContain('nesting deeper');
    expect(rejection(`${'- '.repeat(depth)}a = 1`).message).toContain('nesting deeper');
  });

  it('accepts nesting of exactly MAX_SELECTOR_DEPTH', () => {
    const d = MAX_SELECTOR_DEPTH;
    expect(compileSelector(`${'('.repeat(d)}a = 1${')'.repeat(d)}`)(message({ a: 1 }))).toBe(true);
    expect(compileSelector(`${'NOT '.repeat(d)}a`)(message({ a: true }))).toBe(true);
  });

  it('evaluates the longest possible operator chains without exhausting the stack', () => {
    const terms = Math.floor((MAX_SELECTOR_LENGTH - 10) / 2);
    const sum = compileSelector(`${Array(terms).fill('a').join('+')} = ${terms}`);
    expect(sum(message({ a: 1 }))).toBe(true);
    const ors = compileSelector(
      Array(Math.floor(MAX_SELECTOR_LENGTH / 5))
        .fill('a')
        .join(' OR '),
    );
    expect(ors(message({ a: false }))).toBe(false);
    expect(ors(message({ a: true }))).toBe(true);
  });
});

describe('lexer details', () => {
  it('keeps the exact text of strings and quoted identifiers', () => {
    const e = parseSelector(`"a""b" = 'it''s %_ \\ ''''' `);
    expect(e).toMatchObject({
      kind: 'compare',
      left: { kind: 'ident', name: 'a"b' },
      right: { kind: 'literal', value: "it's %_ \\ ''" },
    });
  });

  it('does not treat the sign as part of a numeric literal', () => {
    expect(parseSelector('a = -1')).toMatchObject({
      right: { kind: 'unary', op: '-', operand: { kind: 'literal', value: 1 } },
    });
  });

  it('reads a numeric literal that overflows a double as infinity, like Double.valueOf', () => {
    expect(parseSelector('a < 1E999')).toMatchObject({ right: { value: Number.POSITIVE_INFINITY } });
    expect(canonical('a < 1E999')).toBe('(a < 1E999)');
  });
});
