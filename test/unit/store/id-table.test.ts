import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../../src/store/journal/id-table.js';
import { MessageSlots } from '../../../src/store/journal/message-slots.js';

type Op =
  | { kind: 'set'; key: string; value: number }
  | { kind: 'delete'; key: string }
  | { kind: 'get'; key: string };

/** Keys from a small alphabet: many equal keys, and (in a 16-bucket table) long probe runs that wrap. */
const key = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'é'), maxLength: 4 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.nat({ max: 1_000_000 }) }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('get' as const), key }),
);

describe('IdTable', () => {
  it('behaves like a Map<string, number> under any sequence of set, delete and get', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const t = new IdTable();
        const m = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            expect(t.set(o.key, o.value)).toBe(m.get(o.key) ?? -1);
            m.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            expect(t.delete(o.key)).toBe(m.get(o.key) ?? -1);
            m.delete(o.key);
          } else expect(t.get(o.key)).toBe(m.get(o.key) ?? -1);
          expect(t.size).toBe(m.size);
        }
        for (const [k, v] of m) expect(t.get(k)).toBe(v);
        expect(t.slots().sort((a, b) => a - b)).toEqual([...m.values()].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
  });

  it('grows past many resizes and shrinks again as it empties, keeping every key', () => {
    const t = new IdTable();
    const n = 20_000;
    for (let i = 0; i < n; i++) expect(t.set(`ID:host:${i}`, i)).toBe(-1);
    expect(t.size).toBe(n);
    for (let i = 0; i < n; i += 2) expect(t.delete(`ID:host:${i}`)).toBe(i);
    for (let i = 0; i < n; i++) expect(t.get(`ID:host:${i}`)).toBe(i % 2 === 0 ? -1 : i);
    for (let i = 1; i < n - 10; i += 2) expect(t.delete(`ID:host:${i}`)).toBe(i);
    expect(t.size).toBe(5);
    expect(t.slots().sort((a, b) => a - b)).toEqual([19_991, 19_993, 19_995, 19_997, 19_999]);
    expect(t.set('ID:host:19999', 7)).toBe(19_999);
    expect(t.get('ID:host:19999')).toBe(7);
  });
});

describe('MessageSlots', () => {
  it('hands out fresh slots, reuses released ones and keeps columns across growth', () => {
    const s = new MessageSlots(2);
    const a = s.alloc(1, 10, 100);
    const b = s.alloc(2, 11, 200);
    s.count[b] = 5;
    const more = Array.from({ length: 100 }, (_, i) => s.alloc(3 + i, 12, 300 + i));
    expect(new Set([a, b, ...more]).size).toBe(102);
    expect(s.capacity).toBeGreaterThanOrEqual(102);
    expect([s.order[b], s.seg[b], s.bytes[b], s.count[b]]).toEqual([2, 11, 200, 5]);
    expect(s.bytes[more[99]!]).toBe(399);
    s.message[a] = { id: 'x' } as never;
    s.release(a);
    expect(s.message[a]).toBeUndefined();
    const c = s.alloc(9, 13, 1);
    expect(c).toBe(a);
    expect([s.order[c], s.seg[c], s.count[c], s.dcSeg[c], s.prevSeg[c]]).toEqual([9, 13, 0, 0, 0]);
  });
});
