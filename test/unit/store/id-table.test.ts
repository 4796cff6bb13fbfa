import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashId, IdTable, type SlotKeys } from '../../../src/store/journal/id-table.js';
import { ID_INLINE, MessageSlots } from '../../../src/store/journal/message-slots.js';

type Op = { kind: 'set'; key: string } | { kind: 'delete'; key: string } | { kind: 'get'; key: string };

/** A key store as the journal index uses one: every set takes a fresh slot holding its key. */
class ArrayKeys implements SlotKeys {
  readonly keys: string[] = [];
  add(key: string): number {
    this.keys.push(key);
    return this.keys.length - 1;
  }
  hasKey(value: number, key: string): boolean {
    return this.keys[value] === key;
  }
}

/**
 * Keys from a small alphabet with digits: many equal keys, numeric tails (which `hashId` places in
 * runs of 8), and in a 16-bucket table long probe runs that wrap.
 */
const key = fc.string({ unit: fc.constantFrom('a', 'é', '0', '1', '7', '9'), maxLength: 5 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('get' as const), key }),
);

function check(t: IdTable, m: Map<string, number>): void {
  expect(t.size).toBe(m.size);
  for (const [k, v] of m) expect(t.get(k)).toBe(v);
  expect(t.slots().sort((a, b) => a - b)).toEqual([...m.values()].sort((a, b) => a - b));
}

describe('IdTable', () => {
  it('behaves like a Map<string, number> under any sequence of set, delete and get', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const keys = new ArrayKeys();
        const t = new IdTable(keys);
        const m = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            const v = keys.add(o.key);
            expect(t.set(o.key, v)).toBe(m.get(o.key) ?? -1);
            m.set(o.key, v);
          } else if (o.kind === 'delete') {
            expect(t.delete(o.key)).toBe(m.get(o.key) ?? -1);
            m.delete(o.key);
          } else expect(t.get(o.key)).toBe(m.get(o.key) ?? -1);
          expect(t.size).toBe(m.size);
        }
        check(t, m);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every key of interleaved sequential streams through growth and FIFO draining', () => {
    // Two producers' ids interleaved, a third with a long numeric tail: their runs of 8 overlap in
    // the table, which is where linear probing and backward-shift deletion must still agree.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 3 }), (start, step) => {
        const keys = new ArrayKeys();
        const t = new IdTable(keys);
        const m = new Map<string, number>();
        const ids: string[] = [];
        for (let i = 0; i < 600; i++) {
          const n = start + i * step;
          ids.push(`ID:aa:${n}`, `ID:bb:${n}`, `x${n}1234567890123`);
        }
        for (const id of ids) {
          const v = keys.add(id);
          expect(t.set(id, v)).toBe(-1);
          m.set(id, v);
        }
        check(t, m);
        for (const id of ids.slice(0, 1500)) {
          expect(t.delete(id)).toBe(m.get(id));
          m.delete(id);
        }
        check(t, m);
      }),
      { numRuns: 20 },
    );
  });

  it('grows past many resizes and shrinks again as it empties, keeping every key', () => {
    const slots = new MessageSlots();
    const t = new IdTable(slots);
    const n = 20_000;
    const slotOf: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = `ID:host:${i}`;
      slotOf.push(slots.alloc(id, i, 1, 100));
      expect(t.set(id, slotOf[i]!)).toBe(-1);
    }
    expect(t.size).toBe(n);
    const grown = t.capacity;
    for (let i = 0; i < n; i += 2) expect(t.delete(`ID:host:${i}`)).toBe(slotOf[i]);
    for (let i = 0; i < n; i++) expect(t.get(`ID:host:${i}`)).toBe(i % 2 === 0 ? -1 : slotOf[i]);
    for (let i = 1; i < n - 10; i += 2) expect(t.delete(`ID:host:${i}`)).toBe(slotOf[i]);
    expect(t.size).toBe(5);
    expect(t.capacity).toBeLessThan(grown);
    expect(t.slots().sort((a, b) => a - b)).toEqual(
      [19_991, 19_993, 19_995, 19_997, 19_999].map((i) => slotOf[i]),
    );
    const again = slots.alloc('ID:host:19999', 0, 1, 1);
    expect(t.set('ID:host:19999', again)).toBe(slotOf[19_999]);
    expect(t.get('ID:host:19999')).toBe(again);
  });
});

describe('hashId', () => {
  it('puts the ids n..n+7 of one prefix in one aligned run of 8 buckets (base-36 tails, as the broker writes them)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.integer({ min: 0, max: 36 ** 5 / 8 - 1 }), (prefix, k) => {
        // A prefix ending in a base-36 digit would lend that digit to the number.
        fc.pre(!/[0-9a-z]$/.test(prefix));
        const base = k * 8;
        const line = hashId(`${prefix}${base.toString(36)}`) >> 3;
        const buckets = new Set<number>();
        for (let i = 0; i < 8; i++) {
          const h = hashId(`${prefix}${(base + i).toString(36)}`);
          expect(h >> 3).toBe(line);
          buckets.add(h & 7);
        }
        expect(buckets.size).toBe(8);
      }),
    );
  });

  it('spreads ids over buckets, with or without a numeric tail', () => {
    // Each kind of id over 4096 buckets: no bucket gets more than a small multiple of its share.
    const kinds = [
      (i: number) => `ID:0a1b2c3d:${i.toString(36)}`,
      (i: number) => `ID:0a1b2c3d:${i}`,
      (i: number) => `${(i * 2654435761) >>> 0}-uuid-like-${i.toString(16)}x`,
      (i: number) => `client-${i % 97}:${Math.floor(i / 97)}`,
    ];
    for (const id of kinds) {
      const counts = new Uint32Array(4096);
      const n = 64 * 4096;
      for (let i = 0; i < n; i++) counts[hashId(id(i)) & 4095]!++;
      expect(Math.max(...counts)).toBeLessThan(64 * 3);
      expect(Math.min(...counts)).toBeGreaterThan(64 / 3);
    }
  });
});

describe('MessageSlots', () => {
  it('hands out fresh slots, reuses released ones and keeps columns across growth', () => {
    const s = new MessageSlots(2);
    const a = s.alloc('a', 1, 10, 100);
    const b = s.alloc('b', 2, 11, 200);
    s.count[b] = 5;
    const more = Array.from({ length: 100 }, (_, i) => s.alloc(`m${i}`, 3 + i, 12, 300 + i));
    expect(new Set([a, b, ...more]).size).toBe(102);
    expect(s.capacity).toBeGreaterThanOrEqual(102);
    expect([s.order[b], s.seg[b], s.bytes[b], s.count[b]]).toEqual([2, 11, 200, 5]);
    expect(s.bytes[more[99]!]).toBe(399);
    expect(s.idOf(b)).toBe('b');
    expect(s.idOf(more[99]!)).toBe('m99');
    s.message[a] = { id: 'x' } as never;
    s.release(a);
    expect(s.message[a]).toBeUndefined();
    const c = s.alloc('c', 9, 13, 1);
    expect(c).toBe(a);
    expect([s.order[c], s.seg[c], s.count[c], s.dcSeg[c], s.prevSeg[c]]).toEqual([9, 13, 0, 0, 0]);
    expect(s.hasKey(c, 'c')).toBe(true);
    expect(s.hasKey(c, 'a')).toBe(false);
  });

  it('keeps any id as the key of its slot: inline, long, beyond Latin-1, across growth and reuse', () => {
    const id = fc.oneof(
      fc.string({ maxLength: ID_INLINE + 8 }),
      fc.string({ unit: 'binary', maxLength: ID_INLINE + 8 }),
      fc.string({
        unit: fc.constantFrom('a', 'ÿ', 'Ā', '\u0000'),
        minLength: ID_INLINE - 1,
        maxLength: ID_INLINE + 1,
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(id, fc.boolean()), { maxLength: 200 }), (steps) => {
        const s = new MessageSlots(4);
        const live = new Map<number, string>();
        for (const [k, release] of steps) {
          const slot = s.alloc(k, 0, 1, 1);
          expect(live.has(slot)).toBe(false);
          live.set(slot, k);
          if (release && live.size > 1) {
            const [first] = live.keys();
            s.release(first!);
            live.delete(first!);
          }
        }
        for (const [slot, k] of live) {
          expect(s.idOf(slot)).toBe(k);
          expect(s.hasKey(slot, k)).toBe(true);
          expect(s.hasKey(slot, `${k}x`)).toBe(false);
          if (k.length > 0) expect(s.hasKey(slot, k.slice(1))).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });
});
