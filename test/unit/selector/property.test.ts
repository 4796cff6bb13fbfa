import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import type { Expr } from '../../../src/core/selector/ast.js';
import { compileCondition } from '../../../src/core/selector/compile.js';
import { compileSelector, SelectorError } from '../../../src/core/selector/index.js';
import { compileLike } from '../../../src/core/selector/like.js';
import { parseSelector } from '../../../src/core/selector/parser.js';
import { formatSelector } from '../../../src/core/selector/print.js';
import { message } from './helpers.js';
import { refMatches, refTruth } from './reference.js';

// ---- Generators -----------------------------------------------------------------------------------------

const PROPERTY_NAMES = ['a', 'b', 'price', 's', 'flag', 'type', 'JMSType', 'x y', 'AND', 'constructor'];
const HEADER_NAMES = [
  'JMSPriority',
  'JMSTimestamp',
  'JMSMessageID',
  'JMSDeliveryMode',
  'JMSCorrelationID',
  'JMSXGroupID',
  'JMSReplyTo',
  'JMSExpiration',
  'JMSDestination',
];
const TEXTS = [
  '',
  '12',
  '1.5',
  '-3',
  '1e3',
  'true',
  'FALSE',
  'IBM',
  "it's",
  'a_b%',
  'PERSISTENT',
  'ID:1',
  '😀',
];

const depth = { maxDepth: 4, depthIdentifier: 'selector', depthSize: 'small' } as const;
const at = { pos: 0 };

const ident: fc.Arbitrary<Expr> = fc
  .constantFrom(...PROPERTY_NAMES, ...HEADER_NAMES)
  .map((name) => ({ kind: 'ident', name, ...at }));
const numLit: fc.Arbitrary<Expr> = fc
  .oneof(
    fc.integer({ min: 0, max: 60 }),
    fc.double({ min: 0, max: 1e6, noNaN: true }),
    fc.constantFrom(0.5, 1e21, 5e-7, 1e308, Number.POSITIVE_INFINITY),
  )
  .map((value) => ({ kind: 'literal', value: Object.is(value, -0) ? 0 : value, ...at }));
const text = fc.oneof(fc.constantFrom(...TEXTS), fc.string({ maxLength: 5 }));
const strLit: fc.Arbitrary<Expr> = text.map((value) => ({ kind: 'literal', value, ...at }));
const boolLit: fc.Arbitrary<Expr> = fc.boolean().map((value) => ({ kind: 'literal', value, ...at }));
const nullLit: fc.Arbitrary<Expr> = fc.constant({ kind: 'literal', value: null, ...at });

/** A LIKE pattern as tokens, rendered for a given escape character so that it is always valid. */
const likePattern = fc
  .tuple(
    fc.array(fc.constantFrom('%', '_', 'a', 'b', '1', '😀', "'", '.', '!', '\\', '%lit', '_lit'), {
      maxLength: 6,
    }),
    fc.constantFrom(null, '!', '\\', 'a'),
  )
  .map(([tokens, esc]) => {
    let pattern = '';
    for (const t of tokens) {
      if (t === '%' || t === '_') {
        pattern += t;
        continue;
      }
      const literal = t === '%lit' ? '%' : t === '_lit' ? '_' : t;
      if (literal === esc || literal === '%' || literal === '_')
        pattern += esc === null ? 'a' : esc + literal;
      else pattern += literal;
    }
    return { pattern, esc };
  });

const { cond } = fc.letrec<{ num: Expr; str: Expr; cond: Expr }>((tie) => {
  const num = tie('num');
  const str = tie('str');
  const cond = tie('cond');
  const notNull = cond.filter((e) => !(e.kind === 'literal' && e.value === null));
  const negated = fc.boolean();
  return {
    num: fc.oneof(
      depth,
      numLit,
      ident,
      fc
        .tuple(fc.constantFrom('+', '-'), num)
        .map(([op, operand]): Expr => ({ kind: 'unary', op, operand, ...at })),
      fc
        .tuple(fc.constantFrom('+', '-', '*', '/', '%'), num, num)
        .map(([op, left, right]): Expr => ({ kind: 'arith', op, left, right, ...at })),
    ),
    str: fc.oneof(depth, strLit, ident),
    cond: fc.oneof(
      depth,
      boolLit,
      nullLit,
      ident,
      cond.map((operand): Expr => ({ kind: 'not', operand, ...at })),
      fc
        .tuple(fc.constantFrom('and', 'or'), cond, cond)
        .map(([kind, left, right]): Expr => ({ kind, left, right, ...at })),
      fc
        .tuple(
          fc.constantFrom('=', '<>'),
          fc.oneof(fc.tuple(num, num), fc.tuple(str, str), fc.tuple(notNull, notNull)),
        )
        .map(([op, [left, right]]): Expr => ({ kind: 'compare', op, left, right, ...at })),
      fc
        .tuple(fc.constantFrom('<', '<=', '>', '>='), num, num)
        .map(([op, left, right]): Expr => ({ kind: 'compare', op, left, right, ...at })),
      fc
        .tuple(negated, num, num, num)
        .map(([negated, value, low, high]): Expr => ({ kind: 'between', negated, value, low, high, ...at })),
      fc
        .tuple(negated, str, fc.array(text, { minLength: 1, maxLength: 4 }))
        .map(([negated, value, list]): Expr => ({ kind: 'in', negated, value, list, ...at })),
      fc.tuple(negated, str, likePattern).map(
        ([negated, value, { pattern, esc }]): Expr => ({
          kind: 'like',
          negated,
          value,
          pattern,
          escape: esc,
          ...at,
        }),
      ),
      fc
        .tuple(negated, fc.oneof(num, str, cond))
        .map(([negated, value]): Expr => ({ kind: 'isNull', negated, value, ...at })),
    ),
  };
});

const propertyValue = fc.oneof(
  fc.integer({ min: -5, max: 60 }),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.5, 1e21),
  fc.constantFrom(...TEXTS, ' 12', '0x10', '5.', '.5', '+7', 'True', 'NaN', 'Infinity'),
  fc.string({ maxLength: 5 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

const messages: fc.Arbitrary<Message> = fc
  .record({
    properties: fc.record(Object.fromEntries(PROPERTY_NAMES.map((name) => [name, propertyValue])), {
      requiredKeys: [],
    }),
    priority: fc.integer({ min: 0, max: 9 }),
    timestamp: fc.constantFrom(0, 12, 1_700_000_000_000),
    expiration: fc.constantFrom(0, 12),
    persistent: fc.boolean(),
    id: fc.constantFrom('ID:1', '12'),
    correlationId: fc.option(fc.constantFrom('c1', '12', 'true'), { nil: undefined }),
    groupId: fc.option(fc.constantFrom('g', '1.5'), { nil: undefined }),
    replyTo: fc.option(fc.constant('queue://r'), { nil: undefined }),
    address: fc.constantFrom('queue://orders', 'topic://x'),
  })
  .map(({ properties, ...headers }) => message(properties as never, headers));

// ---- Properties -----------------------------------------------------------------------------------------

function expectOnlySelectorErrors(selector: string): void {
  let predicate: ((m: Message) => boolean) | undefined;
  try {
    predicate = compileSelector(selector);
  } catch (e) {
    // Plain checks: expect() on an Error formats its stack, which is slow enough to matter in a fuzz loop.
    if (!(e instanceof SelectorError) || e.code !== 'INVALID_SELECTOR') throw e;
    if (e.offset < 0 || e.offset > selector.length)
      throw new Error(`offset ${e.offset} outside the selector`);
    return;
  }
  // Whatever compiles must evaluate, and agree with the reference interpreter.
  const m = message({ a: 1, s: 'x', flag: true });
  expect(typeof predicate(m)).toBe('boolean');
  if (selector.trim() !== '') expect(predicate(m)).toBe(refMatches(parseSelector(selector), m));
}

const TOKENS = [
  'a',
  'b',
  's',
  '"x y"',
  '(',
  ')',
  '=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '%',
  ',',
  'AND',
  'or',
  'NOT',
  'BETWEEN',
  'IN',
  'LIKE',
  'ESCAPE',
  'IS',
  'NULL',
  'TRUE',
  'false',
  "'x'",
  "'%'",
  "'!'",
  "'",
  '"',
  '1',
  '0x1F',
  '017',
  '1.5e3',
  '.5',
  '--',
  '/*',
  '*/',
  '\n',
  '😀',
  '!',
];

describe('compileSelector on arbitrary input', () => {
  it('throws nothing but SelectorError for random strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), expectOnlySelectorErrors), {
      numRuns: 1000,
    });
  });

  it('throws nothing but SelectorError for random token sequences', () => {
    const soup = fc.tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }), fc.constantFrom(' ', ''));
    fc.assert(
      fc.property(soup, ([tokens, sep]) => expectOnlySelectorErrors(tokens.join(sep))),
      { numRuns: 3000 },
    );
  });

  it('rejects or accepts long hostile inputs quickly (bounded work, no deep recursion)', () => {
    const hostile = fc.tuple(
      fc.constantFrom('(', 'NOT ', '- ', '(a = ', "'", '/*', '"'),
      fc.integer({ min: 1, max: 4200 }),
    );
    fc.assert(
      fc.property(hostile, ([unit, n]) => expectOnlySelectorErrors(unit.repeat(Math.ceil(n / unit.length)))),
      { numRuns: 50 },
    );
  });
});

describe('generated selectors', () => {
  it('print to text that parses back to the same canonical form', () => {
    fc.assert(
      fc.property(cond, (ast) => {
        const text = formatSelector(ast);
        expect(formatSelector(parseSelector(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('evaluate exactly as the reference interpreter, in all three truth values', () => {
    fc.assert(
      fc.property(cond, fc.array(messages, { minLength: 1, maxLength: 4 }), (ast, ms) => {
        const text = formatSelector(ast);
        const condition = compileCondition(parseSelector(text));
        const predicate = compileSelector(text);
        for (const m of ms) {
          expect(condition(m)).toBe(refTruth(ast, m));
          expect(predicate(m)).toBe(refMatches(ast, m));
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('never throw while evaluating, whatever the message holds', () => {
    const junk = fc.dictionary(fc.constantFrom(...PROPERTY_NAMES, '__proto__', 'toString'), fc.anything());
    fc.assert(
      fc.property(cond, junk, fc.anything(), (ast, properties, header) => {
        const condition = compileCondition(parseSelector(formatSelector(ast)));
        const m = { ...message(properties as never), priority: header, correlationId: header } as never;
        expect(() => condition(m)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('LIKE matcher', () => {
  it('agrees with a RegExp translation on random patterns and values', () => {
    const alphabet = fc.constantFrom('a', 'b', '😀', '\n', '%', '_');
    const token = fc.constantFrom('a', 'b', '😀', '%', '_', '!%', '!_', '!!');
    // Half the values are instances of the pattern (each wildcard filled in), so that matches, and the
    // boundary cases where a segment fits exactly, are common rather than rare.
    const fill = fc.array(fc.array(alphabet, { maxLength: 3 }), { minLength: 8, maxLength: 8 });
    const cases = fc
      .tuple(fc.array(token, { maxLength: 8 }), fc.array(alphabet, { maxLength: 8 }), fill, fc.boolean())
      .map(([tokens, random, fills, instantiate]) => {
        const value = instantiate
          ? tokens
              .map((t, i) =>
                t === '%' ? fills[i % 8]!.join('') : t === '_' ? (fills[i % 8]![0] ?? 'a') : t.at(-1),
              )
              .join('')
          : random.join('');
        return { tokens, value };
      });
    fc.assert(
      fc.property(cases, ({ tokens, value }) => {
        const pattern = tokens.join('');
        const source = tokens
          .map((t) => (t === '%' ? '.*' : t === '_' ? '.' : t.startsWith('!') ? t[1] : t))
          .join('');
        expect(compileLike(pattern, '!')(value)).toBe(new RegExp(`^${source}$`, 'su').test(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('stays fast on patterns that make backtracking regexes explode', () => {
    const match = compileLike('%a%a%a%a%a%a%a%a%a%a%a%b', null);
    const value = 'a'.repeat(20_000);
    // A backtracking regex needs on the order of 20000^11 steps here; this finishes in well under a second.
    expect(match(value)).toBe(false);
    expect(match(`${value}b`)).toBe(true);
    expect(compileLike('%a_a_a_a_a_a_b', null)(value)).toBe(false);
  });
});
