import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AddressPattern,
  parseAddressPattern,
  patternCovers,
} from '../../../src/security/address-pattern.js';

function p(source: string): AddressPattern {
  const parsed = parseAddressPattern(source);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

describe('parseAddressPattern', () => {
  it('accepts the documented forms', () => {
    for (const s of [
      '*',
      '>',
      'queue://orders',
      'queue://orders.>',
      'topic://prices.*',
      'topic://>',
      'temp-queue://x',
    ]) {
      expect(typeof parseAddressPattern(s)).toBe('object');
    }
  });

  it.each([
    ['orders', 'expected "<kind>://<name>"'],
    ['q://a', 'unknown address kind "q"'],
    ['queue://', 'empty name'],
    ['queue://a.>.b', '">" may only be the last segment'],
    ['topic://a*', 'wildcards "*" and ">" must be whole segments'],
    ['topic://a.b>', 'wildcards'],
  ])('rejects %s', (source, reason) => {
    expect(parseAddressPattern(source)).toContain(reason);
  });
});

describe('patternCovers on concrete addresses', () => {
  it.each([
    ['*', 'queue://a', true],
    ['>', 'topic://a.b.c', true],
    ['queue://orders', 'queue://orders', true],
    ['queue://orders', 'topic://orders', false],
    ['queue://orders', 'queue://orders.eu', false],
    ['queue://orders.>', 'queue://orders', true],
    ['queue://orders.>', 'queue://orders.eu.north', true],
    ['queue://orders.>', 'queue://ordersx', false],
    ['topic://prices.*', 'topic://prices.IBM', true],
    ['topic://prices.*', 'topic://prices', false],
    ['topic://prices.*', 'topic://prices.NASDAQ.IBM', false],
    ['topic://>', 'topic://x', true],
    ['topic://>', 'queue://x', false],
    ['queue://a', 'not-an-address', false],
  ])('%s covers %s: %s', (pattern, address, expected) => {
    expect(patternCovers(p(pattern), address)).toBe(expected);
  });
});

describe('patternCovers on wildcard subscriptions', () => {
  it.each([
    ['topic://a.>', 'topic://a.*', true],
    ['topic://a.>', 'topic://a.>', true],
    ['topic://a.*', 'topic://a.*', true],
    ['topic://a.*', 'topic://a.>', false],
    ['topic://a.b', 'topic://a.*', false],
    ['topic://*.b', 'topic://*.b', true],
    ['topic://a.*.>', 'topic://a.>', false],
  ])('%s covers %s: %s', (pattern, address, expected) => {
    expect(patternCovers(p(pattern), address)).toBe(expected);
  });

  // Reference semantics: a pattern denotes a set of concrete names; "covers" is set inclusion. Checked
  // over every name of up to 5 segments from {a, b, c}, with patterns of up to 3 segments that only use
  // a and b as literals (so c stands for "any other name").
  const matches = (pattern: string[], name: string[]): boolean => {
    for (let i = 0; i < pattern.length; i++) {
      if (pattern[i] === '>') return true;
      if (i >= name.length || (pattern[i] !== '*' && pattern[i] !== name[i])) return false;
    }
    return pattern.length === name.length;
  };
  const universe: string[][] = [];
  const grow = (prefix: string[]) => {
    if (prefix.length > 0) universe.push(prefix);
    if (prefix.length < 5) for (const s of ['a', 'b', 'c']) grow([...prefix, s]);
  };
  grow([]);
  const patterns: string[][] = [];
  const build = (prefix: string[]) => {
    if (prefix.length > 0) patterns.push(prefix);
    patterns.push([...prefix, '>']);
    if (prefix.length < 3) for (const s of ['a', 'b', '*']) build([...prefix, s]);
  };
  build([]);

  it('is set inclusion of the names each side denotes (every pair of small patterns)', () => {
    expect(patterns.length).toBe(79);
    for (const rule of patterns) {
      const compiled = p(`topic://${rule.join('.')}`);
      for (const sub of patterns) {
        const expected = universe.every((n) => !matches(sub, n) || matches(rule, n));
        if (patternCovers(compiled, `topic://${sub.join('.')}`) !== expected) {
          expect.fail(`${rule.join('.')} covers ${sub.join('.')} should be ${expected}`);
        }
      }
    }
  });
});

describe('parseAddressPattern on arbitrary input', () => {
  it('never throws, and accepted wildcards are whole segments', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', '.', '*', '>', ':', '/', 'q', 'queue://', 'topic://') }),
        (s) => {
          const parsed = parseAddressPattern(s);
          if (typeof parsed === 'string' || !parsed.segments) return;
          parsed.segments.forEach((seg, i) => {
            if (seg.includes('*')) expect(seg).toBe('*');
            if (seg.includes('>')) expect([seg, i]).toEqual(['>', parsed.segments!.length - 1]);
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
