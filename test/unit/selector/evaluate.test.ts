import { describe, expect, it } from 'vitest';
import type { PropertyValue } from '../../../src/core/message.js';
import { compileSelector } from '../../../src/core/selector/index.js';
import { message, type TruthName, truth } from './helpers.js';

type Row = [selector: string, properties: Record<string, PropertyValue>, expected: TruthName];

function table(rows: Row[]): void {
  it.each(rows)('%s with %j is %s', (selector, properties, expected) => {
    expect(truth(selector, message(properties))).toBe(expected);
    // The public predicate matches exactly when the condition is TRUE.
    expect(compileSelector(selector)(message(properties))).toBe(expected === 'TRUE');
  });
}

describe('the example from the issue', () => {
  table([
    ["price > 10 AND sym IN ('IBM','MSFT')", { price: 12, sym: 'IBM' }, 'TRUE'],
    ["price > 10 AND sym IN ('IBM','MSFT')", { price: '12', sym: 'MSFT' }, 'TRUE'],
    ["price > 10 AND sym IN ('IBM','MSFT')", { price: 10, sym: 'IBM' }, 'FALSE'],
    ["price > 10 AND sym IN ('IBM','MSFT')", { price: 11, sym: 'ORCL' }, 'FALSE'],
    ["price > 10 AND sym IN ('IBM','MSFT')", { sym: 'IBM' }, 'UNKNOWN'],
    ["price > 10 AND sym IN ('IBM','MSFT')", { price: 9 }, 'FALSE'],
  ]);
});

describe('comparison operators', () => {
  table([
    ['a = 1', { a: 1 }, 'TRUE'],
    ['a = 1', { a: 2 }, 'FALSE'],
    ['a = 1', {}, 'UNKNOWN'],
    ['a = 1', { a: null }, 'UNKNOWN'],
    ['a <> 1', { a: 2 }, 'TRUE'],
    ['a <> 1', { a: 1 }, 'FALSE'],
    ['a <> 1', {}, 'UNKNOWN'],
    ['a < 2', { a: 1 }, 'TRUE'],
    ['a < 2', { a: 2 }, 'FALSE'],
    ['a <= 2', { a: 2 }, 'TRUE'],
    ['a <= 2', { a: 3 }, 'FALSE'],
    ['a > 2', { a: 3 }, 'TRUE'],
    ['a > 2', { a: 2 }, 'FALSE'],
    ['a >= 2', { a: 2 }, 'TRUE'],
    ['a >= 2', { a: 1.5 }, 'FALSE'],
    ['a >= 2', {}, 'UNKNOWN'],
    ['a = b', { a: 3, b: 3 }, 'TRUE'],
    ['a = b', { a: 3 }, 'UNKNOWN'],
    // Exact and approximate numerics compare (JMS 2.0 §3.8.1.1).
    ['a = 1.0', { a: 1 }, 'TRUE'],
    ['a > 1.5e0', { a: 2 }, 'TRUE'],
    ["s = 'IBM'", { s: 'IBM' }, 'TRUE'],
    ["s = 'IBM'", { s: 'ibm' }, 'FALSE'],
    ["s <> 'IBM'", { s: 'MSFT' }, 'TRUE'],
    ["s = 'it''s'", { s: "it's" }, 'TRUE'],
    ["s = ''", { s: '' }, 'TRUE'],
    ['flag = TRUE', { flag: true }, 'TRUE'],
    ['flag = TRUE', { flag: false }, 'FALSE'],
    ['flag <> FALSE', { flag: true }, 'TRUE'],
    ['(a > 1) = TRUE', { a: 2 }, 'TRUE'],
    ['(a > 1) = (b > 1)', { a: 0, b: 0 }, 'TRUE'],
    ['(a > 1) = TRUE', {}, 'UNKNOWN'],
  ]);
});

describe('type rules', () => {
  table([
    // Unlike types are unequal and unordered (§3.8.1.2); '<>' is NOT '=' as in ActiveMQ.
    ['s = 5', { s: 'abc' }, 'FALSE'],
    ['s <> 5', { s: 'abc' }, 'TRUE'],
    ['s > 5', { s: 'abc' }, 'FALSE'],
    ['NOT (s > 5)', { s: 'abc' }, 'TRUE'],
    ["a = 'x'", { a: 5 }, 'FALSE'],
    ['flag = 1', { flag: true }, 'FALSE'],
    ['flag > 0', { flag: true }, 'FALSE'],
    ['a = b', { a: 'x', b: true }, 'FALSE'],
    // Two strings are never ordered as strings; numeric-looking ones are ordered as numbers.
    ['a < b', { a: 'apple', b: 'banana' }, 'FALSE'],
    ['a < b', { a: '9', b: '10' }, 'TRUE'],
    // ...but two strings are equal only as strings.
    ['a = b', { a: '1.0', b: '1' }, 'FALSE'],
    ['a = b', { a: '1', b: '1' }, 'TRUE'],
    // A property used as a condition must hold a boolean.
    ['flag', { flag: true }, 'TRUE'],
    ['flag', { flag: false }, 'FALSE'],
    ['flag', { flag: 1 }, 'UNKNOWN'],
    ['flag', {}, 'UNKNOWN'],
    ['NOT flag', { flag: 'x' }, 'UNKNOWN'],
  ]);
});

describe('BlazeMQ: numeric-looking and boolean-looking strings convert', () => {
  table([
    ['price > 10', { price: '12' }, 'TRUE'],
    ['price > 10', { price: '9.5' }, 'FALSE'],
    ['price = 12', { price: '12' }, 'TRUE'],
    ['price = 12', { price: '12.0' }, 'TRUE'],
    ['price = 12', { price: '1.2e1' }, 'TRUE'],
    ['price = -3.5', { price: '-3.5' }, 'TRUE'],
    ['price = 0.5', { price: '.5' }, 'TRUE'],
    ['price = 12', { price: '+12' }, 'TRUE'],
    ["price = '12'", { price: '12' }, 'TRUE'],
    ["price = '12'", { price: 12 }, 'TRUE'],
    ["price = '12'", { price: '12.0' }, 'FALSE'],
    ['price + 1 = 13', { price: '12' }, 'TRUE'],
    ['-price = -12', { price: '12' }, 'TRUE'],
    ['price BETWEEN 10 AND 20', { price: '15' }, 'TRUE'],
    // Only plain decimal text converts.
    ['price > 10', { price: ' 12' }, 'FALSE'],
    ['price > 10', { price: '12 ' }, 'FALSE'],
    ['price = 16', { price: '0x10' }, 'FALSE'],
    ['price > 10', { price: '' }, 'FALSE'],
    ['price > 10', { price: 'NaN' }, 'FALSE'],
    ['price > 10', { price: 'Infinity' }, 'FALSE'],
    ['price + 1 = 13', { price: 'twelve' }, 'UNKNOWN'],
    ['flag = TRUE', { flag: 'true' }, 'TRUE'],
    ['flag = TRUE', { flag: 'TRUE' }, 'TRUE'],
    ['flag = FALSE', { flag: 'False' }, 'TRUE'],
    ['flag = TRUE', { flag: 'yes' }, 'FALSE'],
    ['flag', { flag: 'true' }, 'TRUE'],
    ['NOT flag', { flag: 'false' }, 'TRUE'],
    ['flag', { flag: 'yes' }, 'UNKNOWN'],
  ]);
});

describe('arithmetic and its precedence', () => {
  table([
    ['1 + 2 * 3 = 7', {}, 'TRUE'],
    ['(1 + 2) * 3 = 9', {}, 'TRUE'],
    ['10 - 4 - 3 = 3', {}, 'TRUE'],
    ['12 / 2 / 3 = 2', {}, 'TRUE'],
    ['2 * 3 % 4 = 2', {}, 'TRUE'],
    ['7 % 3 = 1', {}, 'TRUE'],
    ['-7 % 3 = -1', {}, 'TRUE'],
    // IEEE doubles, not Java integer division.
    ['7 / 2 = 3.5', {}, 'TRUE'],
    ['2 + 3 * -1 = -1', {}, 'TRUE'],
    ['- -5 = 5', {}, 'TRUE'],
    ['-a = -5', { a: 5 }, 'TRUE'],
    ['+a = 5', { a: 5 }, 'TRUE'],
    ['-a * 2 = -10', { a: 5 }, 'TRUE'],
    ['a * b - c = 5', { a: 2, b: 4, c: 3 }, 'TRUE'],
    ['a + 1 > 0', {}, 'UNKNOWN'],
    ['a + 1 > 0', { a: true }, 'UNKNOWN'],
    ['-a = 1', {}, 'UNKNOWN'],
    ['a / 0 = 1', { a: 1 }, 'UNKNOWN'],
    ['a / b = 1', { a: 1, b: 0 }, 'UNKNOWN'],
    ['a % 0 = 1', { a: 1 }, 'UNKNOWN'],
    ['NOT (a / 0 = 1)', { a: 1 }, 'UNKNOWN'],
    ['a * 2 > 1E308', { a: 1e308 }, 'TRUE'],
    ['a - a = 0', { a: Number.POSITIVE_INFINITY }, 'UNKNOWN'],
  ]);
});

describe('numeric literals', () => {
  table([
    ['a = 0x1F', { a: 31 }, 'TRUE'],
    ['a = 0XfF', { a: 255 }, 'TRUE'],
    ['a = 017', { a: 15 }, 'TRUE'],
    ['a = 0', { a: 0 }, 'TRUE'],
    ['a = 10L', { a: 10 }, 'TRUE'],
    ['a = 10l', { a: 10 }, 'TRUE'],
    ['a = 1.5e3', { a: 1500 }, 'TRUE'],
    ['a = 15E-1', { a: 1.5 }, 'TRUE'],
    ['a = 7E+3', { a: 7000 }, 'TRUE'],
    ['a = .5', { a: 0.5 }, 'TRUE'],
    ['a = 5.', { a: 5 }, 'TRUE'],
    ['a = 5.e1', { a: 50 }, 'TRUE'],
    ['a = -957', { a: -957 }, 'TRUE'],
    ['a = +62', { a: 62 }, 'TRUE'],
    ['a = 9223372036854775807', { a: 2 ** 63 }, 'TRUE'],
  ]);
});

describe('logical operators: SQL three-valued logic (JMS 2.0 tables 3-4, 3-5, 3-6)', () => {
  const values = ['TRUE', 'FALSE', 'NULL'] as const;
  const asTruth = (v: (typeof values)[number]): TruthName => (v === 'NULL' ? 'UNKNOWN' : v);
  const andRows: Row[] = [];
  const orRows: Row[] = [];
  for (const x of values) {
    for (const y of values) {
      const [a, b] = [asTruth(x), asTruth(y)];
      const and: TruthName =
        a === 'FALSE' || b === 'FALSE' ? 'FALSE' : a === 'UNKNOWN' || b === 'UNKNOWN' ? 'UNKNOWN' : 'TRUE';
      const or: TruthName =
        a === 'TRUE' || b === 'TRUE' ? 'TRUE' : a === 'UNKNOWN' || b === 'UNKNOWN' ? 'UNKNOWN' : 'FALSE';
      andRows.push([`${x} AND ${y}`, {}, and]);
      orRows.push([`${x} OR ${y}`, {}, or]);
    }
  }
  table(andRows);
  table(orRows);
  table([
    ['NOT TRUE', {}, 'FALSE'],
    ['NOT FALSE', {}, 'TRUE'],
    ['NOT NULL', {}, 'UNKNOWN'],
    ['NOT NOT TRUE', {}, 'TRUE'],
    // Through properties rather than literals.
    ['a = 1 AND b = 1', { a: 1 }, 'UNKNOWN'],
    ['a = 1 AND b = 1', { a: 2 }, 'FALSE'],
    ['a = 1 OR b = 1', { a: 1 }, 'TRUE'],
    ['a = 1 OR b = 1', { a: 2 }, 'UNKNOWN'],
    ['NOT (a = 1)', {}, 'UNKNOWN'],
  ]);
});

describe('logical precedence: NOT > AND > OR, all looser than comparison', () => {
  table([
    ['a = 1 OR a = 2 AND b = 3', { a: 1, b: 0 }, 'TRUE'],
    ['(a = 1 OR a = 2) AND b = 3', { a: 1, b: 0 }, 'FALSE'],
    ['a = 2 AND b = 3 OR a = 1', { a: 1, b: 0 }, 'TRUE'],
    ['NOT a = 1', { a: 2 }, 'TRUE'],
    ['NOT a = 1 AND b = 2', { a: 2, b: 2 }, 'TRUE'],
    ['NOT a = 1 AND b = 2', { a: 1, b: 2 }, 'FALSE'],
    ['NOT a = 1 OR b = 2', { a: 1, b: 2 }, 'TRUE'],
    ['NOT (a = 1 OR b = 2)', { a: 1, b: 3 }, 'FALSE'],
    ['TRUE OR FALSE AND FALSE', {}, 'TRUE'],
    ['NOT FALSE AND FALSE', {}, 'FALSE'],
    ['a + 1 > 2 * b', { a: 4, b: 2 }, 'TRUE'],
    ['a BETWEEN 1 AND 2 AND b = 1', { a: 1, b: 1 }, 'TRUE'],
    ['a BETWEEN 1 AND 2 AND b = 1', { a: 1, b: 2 }, 'FALSE'],
    ['a BETWEEN 1 + 1 AND 2 * 2', { a: 4 }, 'TRUE'],
  ]);
});

describe('BETWEEN (§3.8.1.1: defined as a >= lo AND a <= hi; NOT as a < lo OR a > hi)', () => {
  table([
    ['a BETWEEN 1 AND 3', { a: 0 }, 'FALSE'],
    ['a BETWEEN 1 AND 3', { a: 1 }, 'TRUE'],
    ['a BETWEEN 1 AND 3', { a: 2.5 }, 'TRUE'],
    ['a BETWEEN 1 AND 3', { a: 3 }, 'TRUE'],
    ['a BETWEEN 1 AND 3', { a: 4 }, 'FALSE'],
    ['a BETWEEN 1 AND 3', {}, 'UNKNOWN'],
    ['a BETWEEN 3 AND 1', { a: 2 }, 'FALSE'],
    ['a NOT BETWEEN 1 AND 3', { a: 0 }, 'TRUE'],
    ['a NOT BETWEEN 1 AND 3', { a: 2 }, 'FALSE'],
    ['a NOT BETWEEN 1 AND 3', { a: 4 }, 'TRUE'],
    ['a NOT BETWEEN 1 AND 3', {}, 'UNKNOWN'],
    ['a BETWEEN lo AND 3', { a: 5 }, 'FALSE'],
    ['a BETWEEN lo AND 3', { a: 2 }, 'UNKNOWN'],
    ['a NOT BETWEEN lo AND 3', { a: 5 }, 'TRUE'],
    ['a NOT BETWEEN lo AND 3', { a: 2 }, 'UNKNOWN'],
    ['a BETWEEN 1 AND 3', { a: 'abc' }, 'FALSE'],
    ['a NOT BETWEEN 1 AND 3', { a: 'abc' }, 'FALSE'],
  ]);
});

describe('IN', () => {
  table([
    // The examples of §3.8.1.1.
    ["Country IN ('UK', 'US', 'France')", { Country: 'UK' }, 'TRUE'],
    ["Country IN ('UK', 'US', 'France')", { Country: 'Peru' }, 'FALSE'],
    ["Country NOT IN ('UK', 'US', 'France')", { Country: 'UK' }, 'FALSE'],
    ["Country NOT IN ('UK', 'US', 'France')", { Country: 'Peru' }, 'TRUE'],
    ["Country IN ('UK', 'US', 'France')", {}, 'UNKNOWN'],
    ["Country NOT IN ('UK', 'US', 'France')", {}, 'UNKNOWN'],
    ["Country IN ('UK')", { Country: 'uk' }, 'FALSE'],
    ["s IN ('it''s')", { s: "it's" }, 'TRUE'],
    // IN is a chain of '=', so the same conversions apply.
    ["a IN ('1', '2')", { a: 2 }, 'TRUE'],
    ["a IN ('1', '2')", { a: 3 }, 'FALSE'],
    ["a IN ('1.0')", { a: 1 }, 'TRUE'],
    ["flag IN ('true')", { flag: true }, 'TRUE'],
    ["flag NOT IN ('x')", { flag: true }, 'TRUE'],
  ]);
});

describe('LIKE', () => {
  table([
    // The examples of §3.8.1.1.
    ["phone LIKE '12%3'", { phone: '123' }, 'TRUE'],
    ["phone LIKE '12%3'", { phone: '12993' }, 'TRUE'],
    ["phone LIKE '12%3'", { phone: '1234' }, 'FALSE'],
    ["word LIKE 'l_se'", { word: 'lose' }, 'TRUE'],
    ["word LIKE 'l_se'", { word: 'loose' }, 'FALSE'],
    ["underscored LIKE '\\_%' ESCAPE '\\'", { underscored: '_foo' }, 'TRUE'],
    ["underscored LIKE '\\_%' ESCAPE '\\'", { underscored: 'bar' }, 'FALSE'],
    ["phone NOT LIKE '12%3'", { phone: '123' }, 'FALSE'],
    ["phone NOT LIKE '12%3'", { phone: '1234' }, 'TRUE'],
    ["phone LIKE '12%3'", {}, 'UNKNOWN'],
    ["phone NOT LIKE '12%3'", {}, 'UNKNOWN'],
    // A non-string value never matches (ActiveMQ), so NOT LIKE matches it.
    ["phone LIKE '12%3'", { phone: 123 }, 'FALSE'],
    ["phone NOT LIKE '12%3'", { phone: 123 }, 'TRUE'],
    // Wildcards at the edges, empty strings, repeated and adjacent wildcards.
    ["s LIKE '%'", { s: '' }, 'TRUE'],
    ["s LIKE ''", { s: '' }, 'TRUE'],
    ["s LIKE ''", { s: 'a' }, 'FALSE'],
    ["s LIKE '_'", { s: '' }, 'FALSE'],
    ["s LIKE 'a%'", { s: 'abc' }, 'TRUE'],
    ["s LIKE '%c'", { s: 'abc' }, 'TRUE'],
    ["s LIKE '%b%'", { s: 'abc' }, 'TRUE'],
    ["s LIKE '%%b%%'", { s: 'b' }, 'TRUE'],
    ["s LIKE 'a%b%b'", { s: 'ab' }, 'FALSE'],
    ["s LIKE 'ab%ba'", { s: 'aba' }, 'FALSE'],
    ["s LIKE 'ab%ba'", { s: 'abba' }, 'TRUE'],
    ["s LIKE '%a_a%'", { s: 'xxabax' }, 'TRUE'],
    ["s LIKE '%a_a%'", { s: 'xxabbax' }, 'FALSE'],
    ["s LIKE '_%_'", { s: 'a' }, 'FALSE'],
    ["s LIKE '%_%'", { s: 'a' }, 'TRUE'],
    ["s LIKE '%a_%'", { s: 'ab' }, 'TRUE'],
    ["s LIKE '_%_'", { s: 'ab' }, 'TRUE'],
    // Everything but % and _ is literal, RegExp syntax included.
    ["s LIKE 'a.c'", { s: 'abc' }, 'FALSE'],
    ["s LIKE 'a.c'", { s: 'a.c' }, 'TRUE'],
    ["s LIKE '[a]*(b)?$^|\\{1}'", { s: '[a]*(b)?$^|\\{1}' }, 'TRUE'],
    ["s LIKE 'a%'", { s: 'a\nb' }, 'TRUE'],
    ["s LIKE 'a_b'", { s: 'a\nb' }, 'TRUE'],
    // '_' is one character, including one outside the BMP.
    ["s LIKE '_'", { s: '😀' }, 'TRUE'],
    ["s LIKE 'x_y'", { s: 'x😀y' }, 'TRUE'],
    ["s LIKE '😀%'", { s: '😀z' }, 'TRUE'],
    ["s LIKE '%😀_'", { s: 'a😀b' }, 'TRUE'],
    // ESCAPE makes %, _ and itself literal; any character can be the escape.
    ["s LIKE '100!%' ESCAPE '!'", { s: '100%' }, 'TRUE'],
    ["s LIKE '100!%' ESCAPE '!'", { s: '1000' }, 'FALSE'],
    ["s LIKE 'a!!b' ESCAPE '!'", { s: 'a!b' }, 'TRUE'],
    ["s LIKE '%!_%' ESCAPE '!'", { s: 'snake_case' }, 'TRUE'],
    ["s LIKE '%!_%' ESCAPE '!'", { s: 'camelCase' }, 'FALSE'],
    ["s LIKE 'x%%' ESCAPE '%'", { s: 'x%' }, 'TRUE'],
    ["s LIKE 'x%%' ESCAPE '%'", { s: 'xy' }, 'FALSE'],
    ["s LIKE 'a''b%'", { s: "a'bc" }, 'TRUE'],
  ]);
});

describe('IS NULL', () => {
  table([
    ['a IS NULL', {}, 'TRUE'],
    ['a IS NULL', { a: null }, 'TRUE'],
    ['a IS NULL', { a: 0 }, 'FALSE'],
    ['a IS NULL', { a: '' }, 'FALSE'],
    ['a IS NOT NULL', {}, 'FALSE'],
    ['a IS NOT NULL', { a: false }, 'TRUE'],
    ['a + 1 IS NULL', {}, 'TRUE'],
    ['a / 0 IS NULL', { a: 1 }, 'TRUE'],
    ['(a > 1) IS NULL', {}, 'TRUE'],
    ['(a > 1) IS NOT NULL', { a: 0 }, 'TRUE'],
    ['NULL IS NULL', {}, 'TRUE'],
    ['NOT a IS NULL', { a: 1 }, 'TRUE'],
  ]);
});

describe('keywords are case-insensitive, identifiers case-sensitive', () => {
  table([
    ['a between 1 and 3', { a: 2 }, 'TRUE'],
    ["s not in ('x')", { s: 'y' }, 'TRUE'],
    ["s Like 'a%' eScApE '!'", { s: 'ab' }, 'TRUE'],
    ['a is not null', { a: 1 }, 'TRUE'],
    ['true Or false', {}, 'TRUE'],
    ['not False', {}, 'TRUE'],
    ['A = 1', { a: 1 }, 'UNKNOWN'],
    ['a = 1', { A: 1 }, 'UNKNOWN'],
    ['$x_1 = 1', { $x_1: 1 }, 'TRUE'],
    ['_ = 1', { _: 1 }, 'TRUE'],
    ['größe = 1', { größe: 1 }, 'TRUE'],
    ['notes = 1', { notes: 1 }, 'TRUE'],
    // Keywords fold ASCII case only: dotless ı does not make `ıs` the keyword IS.
    ['ıs = 1', { ıs: 1 }, 'TRUE'],
    ['ANDY = 1 AND ORB = 2', { ANDY: 1, ORB: 2 }, 'TRUE'],
  ]);
});

describe('lexical odds and ends', () => {
  table([
    ['"content-type" = \'text/plain\'', { 'content-type': 'text/plain' }, 'TRUE'],
    ['"AND" = 1', { AND: 1 }, 'TRUE'],
    ['"say ""hi""" = 1', { 'say "hi"': 1 }, 'TRUE'],
    ['a=1 AND(b=2)', { a: 1, b: 2 }, 'TRUE'],
    ['\ta\n=\r1\f', { a: 1 }, 'TRUE'],
    ['a = 1 -- a comment\nAND b = 2', { a: 1, b: 2 }, 'TRUE'],
    ['a = 1 -- AND b = 2', { a: 1, b: 3 }, 'TRUE'],
    ['a = /* b = 2 AND */ 1', { a: 1 }, 'TRUE'],
    ['a - -1 = 2', { a: 1 }, 'TRUE'],
  ]);
});

describe('header identifiers', () => {
  const m = message(
    { type: 'car', JMSPriority: 0 },
    {
      id: 'ID:42',
      priority: 7,
      timestamp: 1000,
      expiration: 5000,
      correlationId: 'corr-1',
      persistent: false,
      groupId: 'g1',
      replyTo: 'queue://replies',
      address: 'topic://prices',
    },
  );
  it.each<[string, TruthName]>([
    ['JMSPriority = 7', 'TRUE'],
    ['JMSPriority > 4', 'TRUE'],
    ["JMSMessageID = 'ID:42'", 'TRUE'],
    ['JMSTimestamp = 1000', 'TRUE'],
    ['JMSExpiration = 5000', 'TRUE'],
    ["JMSCorrelationID = 'corr-1'", 'TRUE'],
    ["JMSDeliveryMode = 'NON_PERSISTENT'", 'TRUE'],
    ["JMSDeliveryMode = 'PERSISTENT'", 'FALSE'],
    ["JMSType = 'car'", 'TRUE'],
    ["JMSXGroupID = 'g1'", 'TRUE'],
    ["JMSReplyTo = 'queue://replies'", 'TRUE'],
    ["JMSDestination = 'topic://prices'", 'TRUE'],
    ['"JMSPriority" = 7', 'TRUE'],
    ['jmspriority IS NULL', 'TRUE'],
    ['JMSRedelivered IS NULL', 'TRUE'],
    ["JMSType = 'car' AND JMSPriority > 5 AND JMSDeliveryMode = 'NON_PERSISTENT'", 'TRUE'],
  ])('%s is %s', (selector, expected) => {
    expect(truth(selector, m)).toBe(expected);
  });

  it('reads JMSType from a JMSType property when there is no type property', () => {
    expect(truth("JMSType = 'x'", message({ JMSType: 'x' }))).toBe('TRUE');
    expect(truth("JMSType = 'x'", message({ type: 'x', JMSType: 'y' }))).toBe('TRUE');
    expect(truth('JMSType IS NULL', message())).toBe('TRUE');
  });

  it('treats absent optional headers as NULL and a persistent message as PERSISTENT', () => {
    const plain = message();
    expect(truth('JMSCorrelationID IS NULL', plain)).toBe('TRUE');
    expect(truth('JMSXGroupID IS NULL', plain)).toBe('TRUE');
    expect(truth('JMSReplyTo IS NULL', plain)).toBe('TRUE');
    expect(truth("JMSCorrelationID = 'x'", plain)).toBe('UNKNOWN');
    expect(truth("JMSDeliveryMode = 'PERSISTENT'", plain)).toBe('TRUE');
  });
});

describe('property lookup', () => {
  it('sees only own properties, never Object.prototype', () => {
    const m = message();
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(truth(`${name} IS NULL`, m)).toBe('TRUE');
    }
    expect(truth('"__proto__" IS NULL', m)).toBe('TRUE');
    expect(truth('constructor = 1', message({ constructor: 1 }))).toBe('TRUE');
  });

  it('reads properties of a null-prototype object', () => {
    const props = Object.assign(Object.create(null) as Record<string, PropertyValue>, { a: 1 });
    expect(truth('a = 1', message(props))).toBe('TRUE');
  });

  it('treats values outside PropertyValue as NULL, and NaN as NULL', () => {
    const junk = {
      u: undefined,
      o: {},
      arr: [1],
      big: 1n,
      fn: () => 1,
      nan: Number.NaN,
    } as unknown as Record<string, PropertyValue>;
    for (const name of Object.keys(junk)) {
      expect(truth(`${name} IS NULL`, message(junk))).toBe('TRUE');
    }
  });
});

describe('compileSelector', () => {
  it('treats an empty or blank selector as no selector (§3.8.1)', () => {
    for (const s of ['', '   ', '\n\t']) expect(compileSelector(s)(message())).toBe(true);
  });

  it('never throws while evaluating, even for a hostile message', () => {
    const match = compileSelector('a = 1 OR b IS NULL');
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          throw new Error('boom');
        },
        getOwnPropertyDescriptor() {
          throw new Error('boom');
        },
      },
    );
    expect(match(throwing as never)).toBe(false);
    expect(match({ ...message(), properties: null } as never)).toBe(true);
    expect(match({ ...message(), properties: 'nope' } as never)).toBe(true);
  });

  it('returns an independent, reusable predicate', () => {
    const big = compileSelector('a > 10');
    const small = compileSelector('a < 10');
    expect([big(message({ a: 11 })), big(message({ a: 1 })), small(message({ a: 1 }))]).toEqual([
      true,
      false,
      true,
    ]);
  });
});
