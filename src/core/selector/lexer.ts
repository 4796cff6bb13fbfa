/**
 * Selector tokenizer. Token shapes follow ActiveMQ's SelectorParser.jj (which is what JMS users' selectors
 * were written against) within the lexical rules of JMS 2.0 §3.8.1.1:
 * - keywords NOT AND OR BETWEEN LIKE ESCAPE IN IS TRUE FALSE NULL are case-insensitive; identifiers are
 *   case-sensitive Java-style identifiers (letter, `_` or `$` first) and can never be a keyword;
 * - exact numerics: decimal `57`, hex `0x1F`, octal `017`, each with an optional `L` suffix;
 * - approximate numerics: `7.`, `.5`, `-95.7` (the sign is an operator), `1.5e3`, `7E3`;
 * - strings in single quotes, `''` standing for one quote;
 * - whitespace is space, tab, form feed and line terminators;
 * - SQL comments `-- to end of line` and `/* block *\/` are skipped, as ActiveMQ does.
 * BlazeMQ extension: a double-quoted identifier (`"content-type"`, `""` for a quote) names a property whose
 * name is not a Java identifier, which STOMP headers and MQTT user properties often are.
 */
import { SelectorError } from './errors.js';

export type Keyword =
  | 'NOT'
  | 'AND'
  | 'OR'
  | 'BETWEEN'
  | 'LIKE'
  | 'ESCAPE'
  | 'IN'
  | 'IS'
  | 'TRUE'
  | 'FALSE'
  | 'NULL';
export type Punct = '=' | '<>' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%' | '(' | ')' | ',';

export type Token =
  | { readonly type: 'keyword'; readonly keyword: Keyword; readonly pos: number; readonly text: string }
  | { readonly type: 'ident'; readonly name: string; readonly pos: number; readonly text: string }
  | { readonly type: 'string'; readonly value: string; readonly pos: number; readonly text: string }
  | { readonly type: 'number'; readonly value: number; readonly pos: number; readonly text: string }
  | { readonly type: 'punct'; readonly punct: Punct; readonly pos: number; readonly text: string }
  | { readonly type: 'eof'; readonly pos: number; readonly text: string };

const KEYWORDS: ReadonlySet<string> = new Set([
  'NOT',
  'AND',
  'OR',
  'BETWEEN',
  'LIKE',
  'ESCAPE',
  'IN',
  'IS',
  'TRUE',
  'FALSE',
  'NULL',
]);

/**
 * ASCII-only case folding: with Unicode folding, identifiers such as `ıs` (dotless i) or `ſ`-spellings
 * would upper-case into keywords.
 */
export function keywordOf(word: string): Keyword | null {
  if (word.length > 7 || !/^[A-Za-z]+$/.test(word)) return null;
  const upper = word.toUpperCase();
  return KEYWORDS.has(upper) ? (upper as Keyword) : null;
}

export function isKeyword(word: string): boolean {
  return keywordOf(word) !== null;
}

/** Java identifier start/part (JMS 2.0 §3.8.1.1 "Identifiers"), minus the invisible format characters. */
const IDENT = /[\p{L}\p{Nl}\p{Sc}\p{Pc}][\p{L}\p{Nl}\p{Sc}\p{Pc}\p{Mn}\p{Mc}\p{Nd}]*/uy;
export const PLAIN_IDENT = /^[\p{L}\p{Nl}\p{Sc}\p{Pc}][\p{L}\p{Nl}\p{Sc}\p{Pc}\p{Mn}\p{Mc}\p{Nd}]*$/u;
/** What may not directly follow a number: `12abc` or `1.2.3` is a typo, not two tokens. */
const IDENT_PART = /[\p{L}\p{Nl}\p{Sc}\p{Pc}\p{Mn}\p{Mc}\p{Nd}.]/uy;

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function describe(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp < 0x20 || cp === 0x7f
    ? `character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
    : `'${c}'`;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (true) {
    // Whitespace and comments.
    while (i < n) {
      const c = text[i]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') {
        i++;
      } else if (c === '-' && text[i + 1] === '-') {
        while (i < n && text[i] !== '\n' && text[i] !== '\r') i++;
      } else if (c === '/' && text[i + 1] === '*') {
        const end = text.indexOf('*/', i + 2);
        if (end < 0) throw new SelectorError('unterminated comment', i);
        i = end + 2;
      } else {
        break;
      }
    }
    if (i >= n) {
      tokens.push({ type: 'eof', pos: n, text: '' });
      return tokens;
    }
    const start = i;
    const c = text[i]!;
    if (c === "'") {
      const value = quoted(text, i, "'");
      i = value.end;
      tokens.push({ type: 'string', value: value.value, pos: start, text: text.slice(start, i) });
    } else if (c === '"') {
      const value = quoted(text, i, '"');
      if (value.value === '') throw new SelectorError('empty quoted identifier', start);
      i = value.end;
      tokens.push({ type: 'ident', name: value.value, pos: start, text: text.slice(start, i) });
    } else if (isDigit(c) || (c === '.' && isDigit(text[i + 1]))) {
      const num = number(text, i);
      i = num.end;
      tokens.push({ type: 'number', value: num.value, pos: start, text: text.slice(start, i) });
    } else {
      IDENT.lastIndex = i;
      const m = IDENT.exec(text);
      if (m) {
        i += m[0].length;
        const keyword = keywordOf(m[0]);
        if (keyword !== null) {
          tokens.push({ type: 'keyword', keyword, pos: start, text: m[0] });
        } else {
          tokens.push({ type: 'ident', name: m[0], pos: start, text: m[0] });
        }
      } else {
        const p = punct(text, i);
        i += p.length;
        tokens.push({ type: 'punct', punct: p, pos: start, text: p });
      }
    }
  }
}

function punct(text: string, i: number): Punct {
  const c = text[i]!;
  const next = text[i + 1];
  switch (c) {
    case '<':
      return next === '>' ? '<>' : next === '=' ? '<=' : '<';
    case '>':
      return next === '=' ? '>=' : '>';
    case '=':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '(':
    case ')':
    case ',':
      return c;
    case '!':
      if (next === '=') throw new SelectorError("'!=' is not a selector operator (use '<>')", i);
      break;
  }
  const ch = String.fromCodePoint(text.codePointAt(i)!);
  throw new SelectorError(`unexpected ${describe(ch)}`, i);
}

/** A `q`-quoted run with `qq` standing for one `q` (SQL-92 §5.3 <character string literal>). */
function quoted(text: string, start: number, q: string): { value: string; end: number } {
  let value = '';
  let from = start + 1;
  while (true) {
    const close = text.indexOf(q, from);
    if (close < 0) {
      throw new SelectorError(`unterminated ${q === "'" ? 'string literal' : 'quoted identifier'}`, start);
    }
    value += text.slice(from, close);
    if (text[close + 1] === q) {
      value += q;
      from = close + 2;
    } else {
      return { value, end: close + 1 };
    }
  }
}

function number(text: string, start: number): { value: number; end: number } {
  let i = start;
  let value: number;
  if (text[i] === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
    i += 2;
    const digitsAt = i;
    while (i < text.length && /[0-9a-fA-F]/.test(text[i]!)) i++;
    if (i === digitsAt) throw new SelectorError('hexadecimal literal has no digits', start);
    value = Number.parseInt(text.slice(digitsAt, i), 16);
    if (text[i] === 'l' || text[i] === 'L') i++;
  } else {
    while (isDigit(text[i])) i++;
    let approximate = false;
    if (text[i] === '.') {
      approximate = true;
      i++;
      while (isDigit(text[i])) i++;
    }
    if (text[i] === 'e' || text[i] === 'E') {
      approximate = true;
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!isDigit(text[i])) throw new SelectorError('exponent has no digits', start);
      while (isDigit(text[i])) i++;
    }
    const literal = text.slice(start, i);
    if (approximate) {
      value = Number(literal);
    } else if (literal.length > 1 && literal[0] === '0') {
      if (!/^[0-7]+$/.test(literal)) throw new SelectorError(`invalid octal literal '${literal}'`, start);
      value = Number.parseInt(literal, 8);
    } else {
      value = Number(literal);
    }
    if (!approximate && (text[i] === 'l' || text[i] === 'L')) i++;
  }
  IDENT_PART.lastIndex = i;
  if (IDENT_PART.test(text)) {
    throw new SelectorError(`invalid numeric literal '${text.slice(start, i + 1)}'`, start);
  }
  return { value, end: i };
}
