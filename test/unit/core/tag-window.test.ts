import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TagWindow } from '../../../src/core/tag-window.js';

type Op =
  | { kind: 'add'; gap: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'deleteUnknown'; tag: number }
  | { kind: 'upTo'; pick: number }
  | { kind: 'takeAll' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), gap: fc.nat(40) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteUnknown' as const),
      tag: fc.oneof(fc.integer({ min: -5, max: 3000 }), fc.double({ noNaN: false })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('upTo' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'takeAll' as const }) },
);

describe('TagWindow', () => {
  it('behaves like a Map<number, T> filled in increasing tag order', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 16, 32, 64), fc.array(op, { maxLength: 400 }), (maxSpan, ops) => {
        const w = new TagWindow<string>(maxSpan);
        const model = new Map<number, string>();
        let tag = 0;
        const keys = () => [...model.keys()].sort((a, b) => a - b);
        for (const o of ops) {
          if (o.kind === 'add') {
            tag += 1 + o.gap;
            w.add(tag, `m${tag}`);
            model.set(tag, `m${tag}`);
          } else if (o.kind === 'delete' && model.size > 0) {
            const k = keys()[o.pick % model.size]!;
            expect(w.delete(k)).toBe(model.get(k));
            model.delete(k);
            expect(w.delete(k)).toBeUndefined();
          } else if (o.kind === 'deleteUnknown') {
            expect(w.get(o.tag)).toBe(model.get(o.tag));
            expect(w.delete(o.tag)).toBe(model.get(o.tag));
            model.delete(o.tag);
          } else if (o.kind === 'upTo' && model.size > 0) {
            // The cumulative-ack walk of core/subscription.ts.
            const limit = keys()[o.pick % model.size]!;
            const taken: number[] = [];
            for (let t = w.oldest(); t !== undefined && t <= limit; t = w.oldest()) {
              expect(w.delete(t)).toBe(`m${t}`);
              taken.push(t);
            }
            const expected = keys().filter((k) => k <= limit);
            expect(taken).toEqual(expected);
            for (const k of expected) model.delete(k);
          } else if (o.kind === 'takeAll') {
            expect(w.takeAll()).toEqual(keys().map((k) => `m${k}`));
            model.clear();
          }
          expect(w.size).toBe(model.size);
          expect(w.oldest()).toBe(model.size === 0 ? undefined : keys()[0]);
          for (const k of model.keys()) expect(w.get(k)).toBe(model.get(k));
        }
      }),
    );
  });

  it('keeps memory bounded when one entry is never settled', () => {
    const w = new TagWindow<number>(64);
    w.add(1, 1);
    for (let t = 2; t < 100_000; t++) {
      w.add(t, t);
      w.delete(t);
    }
    expect(w.size).toBe(1);
    expect(w.get(1)).toBe(1);
    // The straggler moved out of the ring instead of stretching it over 100,000 tags.
    expect((w as unknown as { ring: unknown[] }).ring.length).toBeLessThanOrEqual(64);
    expect(w.takeAll()).toEqual([1]);
  });

  it('refuses tags that do not increase, and never matches a fractional tag', () => {
    const w = new TagWindow<string>(16);
    w.add(5, 'a');
    expect(() => w.add(5, 'b')).toThrow();
    expect(w.get(5.5)).toBeUndefined();
    w.add(6, 'b');
    expect(w.delete(5.5)).toBeUndefined();
    expect(w.size).toBe(2);
  });
});
