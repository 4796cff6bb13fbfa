/**
 * Recursive-descent parser for JMS message selectors (JMS 2.0 §3.8.1.1), producing the tree in ast.ts and
 * rejecting, at compile time, expressions whose result could never be meaningful (the optional semantic
 * checking §3.8.1.1 allows, and the checks ActiveMQ makes). Precedence, loosest first:
 *
 *   selector   := or EOF
 *   or         := and (OR and)*
 *   and        := not (AND not)*
 *   not        := NOT not | predicate                       -- logical NOT binds looser than comparison
 *   predicate  := sum [ ('=' | '<>' | '<' | '<=' | '>' | '>=') sum
 *                     | [NOT] BETWEEN sum AND sum
 *                     | [NOT] IN '(' string (',' string)* ')'
 *                     | [NOT] LIKE string [ESCAPE string]
 *                     | IS [NOT] NULL ]
 *   sum        := product (('+' | '-') product)*
 *   product    := unary (('*' | '/' | '%') unary)*          -- '%' (modulo) is an ActiveMQ extension
 *   unary      := ('+' | '-') unary | primary
 *   primary    := literal | identifier | '(' or ')'
 *
 * Comparisons do not chain (`a = b = c` is an error, as in SQL-92 §8.2): parenthesize instead.
 */
import { type ArithOp, type CompareOp, type Expr, type StaticType, staticType } from './ast.js';
import { SelectorError } from './errors.js';
import { type Keyword, type Punct, type Token, tokenize } from './lexer.js';

/** JMS sets no limit; this one keeps a hostile selector from costing more than a few microseconds to reject. */
export const MAX_SELECTOR_LENGTH = 4096;
/** Nesting of parentheses and unary operators; bounds parser and evaluator recursion. */
export const MAX_SELECTOR_DEPTH = 100;

const COMPARE_OPS: ReadonlySet<string> = new Set(['=', '<>', '<', '<=', '>', '>=']);

const TYPE_NAMES: Record<StaticType, string> = {
  boolean: 'a boolean',
  number: 'a number',
  string: 'a string',
  null: 'NULL',
  any: 'a property',
};

export function parseSelector(text: string): Expr {
  if (text.length > MAX_SELECTOR_LENGTH) {
    throw new SelectorError(`selector is longer than ${MAX_SELECTOR_LENGTH} characters`, MAX_SELECTOR_LENGTH);
  }
  return new Parser(tokenize(text)).selector();
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  selector(): Expr {
    const e = this.or();
    const t = this.peek();
    if (t.type !== 'eof') {
      if (t.type === 'punct' && COMPARE_OPS.has(t.punct)) {
        throw new SelectorError(`comparisons cannot be chained; add parentheses before '${t.text}'`, t.pos);
      }
      throw new SelectorError(`unexpected ${show(t)}; expected an operator or the end`, t.pos);
    }
    const type = staticType(e);
    if (type === 'number' || type === 'string') {
      throw new SelectorError(`the selector must be a condition, not ${TYPE_NAMES[type]}`, e.pos);
    }
    return e;
  }

  private or(): Expr {
    let left = this.and();
    while (this.isKeyword('OR')) {
      const pos = this.next().pos;
      const right = this.and();
      condition(left, 'OR');
      condition(right, 'OR');
      left = { kind: 'or', left, right, pos };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isKeyword('AND')) {
      const pos = this.next().pos;
      const right = this.not();
      condition(left, 'AND');
      condition(right, 'AND');
      left = { kind: 'and', left, right, pos };
    }
    return left;
  }

  private not(): Expr {
    if (!this.isKeyword('NOT')) return this.predicate();
    const pos = this.next().pos;
    const operand = this.nested(pos, () => this.not());
    condition(operand, 'NOT');
    return { kind: 'not', operand, pos };
  }

  private predicate(): Expr {
    const value = this.sum();
    const t = this.peek();
    if (t.type === 'punct' && COMPARE_OPS.has(t.punct)) {
      this.next();
      const op = t.punct as CompareOp;
      const right = this.sum();
      if (op === '=' || op === '<>') equatable(value, right, t);
      else {
        numeric(value, `'${op}'`);
        numeric(right, `'${op}'`);
      }
      return { kind: 'compare', op, left: value, right, pos: t.pos };
    }
    if (t.type !== 'keyword') return value;
    if (t.keyword === 'IS') {
      this.next();
      let negated = false;
      if (this.isKeyword('NOT')) {
        this.next();
        negated = true;
      }
      this.expectKeyword('NULL', negated ? 'IS NOT NULL' : 'IS NULL');
      return { kind: 'isNull', negated, value, pos: t.pos };
    }
    let negated = false;
    if (t.keyword === 'NOT') {
      const after = this.peek(1);
      if (after.type !== 'keyword' || !(['BETWEEN', 'IN', 'LIKE'] as Keyword[]).includes(after.keyword)) {
        throw new SelectorError(`expected BETWEEN, IN or LIKE after NOT, found ${show(after)}`, after.pos);
      }
      this.next();
      negated = true;
    }
    const op = this.peek();
    if (op.type !== 'keyword') return value;
    switch (op.keyword) {
      case 'BETWEEN': {
        this.next();
        const low = this.sum();
        this.expectKeyword('AND', 'BETWEEN … AND');
        const high = this.sum();
        for (const e of [value, low, high]) numeric(e, 'BETWEEN');
        return { kind: 'between', negated, value, low, high, pos: op.pos };
      }
      case 'IN': {
        this.next();
        textual(value, 'IN');
        this.expectPunct('(', 'IN');
        const list = [this.string('IN')];
        while (this.isPunct(',')) {
          this.next();
          list.push(this.string('IN'));
        }
        this.expectPunct(')', 'IN list');
        return { kind: 'in', negated, value, list, pos: op.pos };
      }
      case 'LIKE': {
        this.next();
        textual(value, 'LIKE');
        const patternPos = this.peek().pos;
        const pattern = this.string('LIKE');
        let escapeChar: string | null = null;
        if (this.isKeyword('ESCAPE')) {
          this.next();
          const at = this.peek().pos;
          escapeChar = this.string('ESCAPE');
          // JMS 2.0 §3.8.1.1: "escape-character is a single-character string literal".
          if ([...escapeChar].length !== 1)
            throw new SelectorError('ESCAPE must be exactly one character', at);
        }
        checkLikePattern(pattern, escapeChar, patternPos);
        return { kind: 'like', negated, value, pattern, escape: escapeChar, pos: op.pos };
      }
      default:
        return value;
    }
  }

  private sum(): Expr {
    let left = this.product();
    while (this.isPunct('+') || this.isPunct('-')) {
      left = this.arith(left, () => this.product());
    }
    return left;
  }

  private product(): Expr {
    let left = this.unary();
    while (this.isPunct('*') || this.isPunct('/') || this.isPunct('%')) {
      left = this.arith(left, () => this.unary());
    }
    return left;
  }

  private arith(left: Expr, operand: () => Expr): Expr {
    const t = this.next();
    const op = t.text as ArithOp;
    const right = operand();
    numeric(left, `'${op}'`);
    numeric(right, `'${op}'`);
    return { kind: 'arith', op, left, right, pos: t.pos };
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.type === 'punct' && (t.punct === '+' || t.punct === '-')) {
      this.next();
      const operand = this.nested(t.pos, () => this.unary());
      numeric(operand, `unary '${t.punct}'`);
      return { kind: 'unary', op: t.punct, operand, pos: t.pos };
    }
    return this.primary();
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.type) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: t.value, pos: t.pos };
      case 'ident':
        return { kind: 'ident', name: t.name, pos: t.pos };
      case 'keyword':
        if (t.keyword === 'TRUE' || t.keyword === 'FALSE') {
          return { kind: 'literal', value: t.keyword === 'TRUE', pos: t.pos };
        }
        if (t.keyword === 'NULL') return { kind: 'literal', value: null, pos: t.pos };
        break;
      case 'punct':
        if (t.punct === '(') {
          const inner = this.nested(t.pos, () => this.or());
          this.expectPunct(')', 'parenthesized expression');
          return inner;
        }
        break;
    }
    throw new SelectorError(`unexpected ${show(t)}; expected an expression`, t.pos);
  }

  private nested(pos: number, parse: () => Expr): Expr {
    if (++this.depth > MAX_SELECTOR_DEPTH) {
      throw new SelectorError(`nesting deeper than ${MAX_SELECTOR_DEPTH} levels`, pos);
    }
    const e = parse();
    this.depth--;
    return e;
  }

  private string(context: string): string {
    const t = this.next();
    if (t.type !== 'string')
      throw new SelectorError(`${context} expects a string literal, found ${show(t)}`, t.pos);
    return t.value;
  }

  private expectKeyword(k: Keyword, context: string): void {
    const t = this.next();
    if (t.type !== 'keyword' || t.keyword !== k) {
      throw new SelectorError(`expected ${k} in ${context}, found ${show(t)}`, t.pos);
    }
  }

  private expectPunct(p: Punct, context: string): void {
    const t = this.next();
    if (t.type !== 'punct' || t.punct !== p) {
      throw new SelectorError(`expected '${p}' in ${context}, found ${show(t)}`, t.pos);
    }
  }

  private isKeyword(k: Keyword): boolean {
    const t = this.peek();
    return t.type === 'keyword' && t.keyword === k;
  }

  private isPunct(p: Punct): boolean {
    const t = this.peek();
    return t.type === 'punct' && t.punct === p;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
}

function show(t: Token): string {
  if (t.type === 'eof') return 'end of selector';
  const text = t.text.length > 20 ? `${t.text.slice(0, 20)}…` : t.text;
  return `'${text}'`;
}

/** Operands of NOT/AND/OR and the selector itself must be able to yield a boolean (JMS 2.0 §3.8.1.1). */
function condition(e: Expr, context: string): void {
  const t = staticType(e);
  if (t === 'number' || t === 'string') {
    throw new SelectorError(`${context} needs a boolean operand, found ${TYPE_NAMES[t]}`, e.pos);
  }
}

/**
 * Arithmetic, ordering comparisons and BETWEEN take numbers only: "String and Boolean comparison is
 * restricted to = and <>" (JMS 2.0 §3.8.1.1); a NULL literal would make the result always UNKNOWN.
 */
function numeric(e: Expr, context: string): void {
  const t = staticType(e);
  if (t !== 'number' && t !== 'any') {
    throw new SelectorError(`${context} needs a numeric operand, found ${TYPE_NAMES[t]}`, e.pos);
  }
}

/** IN and LIKE test strings ("identifier [NOT] IN …", "identifier [NOT] LIKE …" in JMS 2.0 §3.8.1.1). */
function textual(e: Expr, context: string): void {
  const t = staticType(e);
  if (t !== 'string' && t !== 'any') {
    throw new SelectorError(`${context} needs a string operand, found ${TYPE_NAMES[t]}`, e.pos);
  }
}

/**
 * `x = NULL` is always UNKNOWN (SQL-92 §8.2), so it is rejected in favour of IS NULL, as ActiveMQ does. Two
 * operands of known, different types can never be equal: "only like type values can be compared".
 */
function equatable(left: Expr, right: Expr, op: Token): void {
  const l = staticType(left);
  const r = staticType(right);
  for (const [e, t] of [
    [left, l],
    [right, r],
  ] as const) {
    if (t === 'null') throw new SelectorError(`'${op.text}' with NULL is never true; use IS NULL`, e.pos);
  }
  if (l !== 'any' && r !== 'any' && l !== r) {
    throw new SelectorError(`cannot compare ${TYPE_NAMES[l]} with ${TYPE_NAMES[r]}`, op.pos);
  }
}

/**
 * SQL-92 §8.5 General Rule 3: within the pattern, the escape character must be followed by '%', '_' or
 * itself. (ActiveMQ silently treats a stray escape literally; rejecting it surfaces the typo instead.)
 */
function checkLikePattern(pattern: string, escapeChar: string | null, pos: number): void {
  if (escapeChar === null) return;
  const chars = [...pattern];
  for (let k = 0; k < chars.length; k++) {
    if (chars[k] !== escapeChar) continue;
    const following = chars[k + 1];
    if (following !== '%' && following !== '_' && following !== escapeChar) {
      throw new SelectorError(
        `in the LIKE pattern, ESCAPE '${escapeChar}' must be followed by %, _ or itself`,
        pos,
      );
    }
    k++;
  }
}
