import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchPattern, TopicIndex } from '../../../src/core/wildcard.js';

/** Independent oracle: ActiveMQ wildcards as a regular expression. `a.>` also matches `a`. */
function naive(pattern: string, name: string): boolean {
  const ls = pattern.split('.');
  let re = '';
  ls.forEach((l, i) => {
    if (l === '>') {
      re += i === 0 ? '.*' : '(\\..*)?';
      return;
    }
    if (i > 0) re += '\\.';
    re += l === '*' ? '[^.]*' : l.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${re}$`).test(name);
}

const level = fc.constantFrom('a', 'b', 'c', '');
const nameArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const patternArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', 'c', '*'), { minLength: 0, maxLength: 4 }), fc.boolean())
  .filter(([ls, gt]) => ls.length > 0 || gt)
  .map(([ls, gt]) => (gt ? [...ls, '>'] : ls).join('.'));

describe('wildcard matching', () => {
  it('follows ActiveMQ', () => {
    expect(matchPattern('a.>', 'a')).toBe(true);
    expect(matchPattern('a.>', 'a.b')).toBe(true);
    expect(matchPattern('a.>', 'a.b.c')).toBe(true);
    expect(matchPattern('a.>', 'b')).toBe(false);
    expect(matchPattern('a.*', 'a')).toBe(false);
    expect(matchPattern('a.*', 'a.b')).toBe(true);
    expect(matchPattern('a.*', 'a.b.c')).toBe(false);
    expect(matchPattern('*.b', 'x.b')).toBe(true);
    expect(matchPattern('>', 'x.y.z')).toBe(true);
  });

  it('matchPattern agrees with a regular-expression oracle', () => {
    fc.assert(
      fc.property(patternArb, nameArb, (p, n) => {
        expect(matchPattern(p, n)).toBe(naive(p, n));
      }),
      { numRuns: 3000 },
    );
  });

  it('TopicIndex.match returns exactly the matching subscriptions, through adds and removes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), patternArb, fc.integer({ min: 0, max: 5 })), { maxLength: 40 }),
        fc.array(nameArb, { minLength: 1, maxLength: 10 }),
        (ops, names) => {
          const index = new TopicIndex<string>(4);
          const live = new Set<string>();
          for (const [add, pattern, n] of ops) {
            const item = `${pattern}#${n}`;
            if (add) {
              index.add(pattern, item);
              live.add(item);
            } else {
              expect(index.remove(pattern, item)).toBe(live.delete(item));
            }
            for (const name of names) {
              const expected = [...live].filter((i) => naive(i.split('#')[0]!, name)).sort();
              expect([...index.match(name)].sort()).toEqual(expected);
            }
          }
          expect(index.size).toBe(live.size);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('prunes empty nodes on remove', () => {
    const index = new TopicIndex<number>();
    index.add('a.b.c', 1);
    index.add('a.*.>', 2);
    index.remove('a.b.c', 1);
    index.remove('a.*.>', 2);
    expect(index.size).toBe(0);
    // biome-ignore lint/suspicious/noExplicitAny: white-box check of the trie root
    const root = (index as any).root;
    expect(root.children.size).toBe(0);
    expect(root.star).toBeUndefined();
  });
});
