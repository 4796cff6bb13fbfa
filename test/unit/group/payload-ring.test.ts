import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadRing } from '../../../src/group/reliable/nack/payload-ring.js';

function bytes(seq: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seq * 31 + i) & 0xff;
  return b;
}
/** Byte equality without vitest's element-by-element deep equal (slow on thousands of arrays). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

describe('PayloadRing', () => {
  it('keeps a run of seqs as bytes with their views, frees from the bottom', () => {
    const r = new PayloadRing(5);
    expect(r.next).toBe(5);
    r.push(5, bytes(5, 10), 1);
    r.push(6, bytes(6, 0), 1);
    r.push(7, bytes(7, 3000), 2);
    expect(r.count).toBe(3);
    expect(r.bytes).toBe(3010);
    expect(r.has(4)).toBe(false);
    expect(r.has(8)).toBe(false);
    expect(r.payload(5)).toEqual(bytes(5, 10));
    expect(r.payload(6).length).toBe(0);
    expect(r.payload(7)).toEqual(bytes(7, 3000));
    expect(r.view(7)).toBe(2);
    expect(r.view(8)).toBe(-1);
    r.freeTo(6);
    expect(r.has(6)).toBe(false);
    expect(r.payload(7)).toEqual(bytes(7, 3000));
    expect(r.bytes).toBe(3000);
    // Freeing past what is held moves the next expected seq on (a sender's stable point, a cut).
    r.freeTo(20);
    expect(r.count).toBe(0);
    expect(r.next).toBe(21);
  });

  it('refuses a seq out of order', () => {
    const r = new PayloadRing(1);
    r.push(1, bytes(1, 4), 0);
    expect(() => r.push(3, bytes(3, 4), 0)).toThrow(RangeError);
  });

  it('wraps around the slab without overwriting held messages and grows when full', () => {
    const r = new PayloadRing(1);
    let seq = 1;
    // Steady state of a sender: push 3, free 2, so the held run crawls around the slab and grows slowly.
    for (let round = 0; round < 2000; round++) {
      for (let k = 0; k < 3; k++, seq++) r.push(seq, bytes(seq, 1 + ((seq * 7) % 1500)), seq >> 8);
      r.freeTo(r.next - r.count + 1);
      const first = r.next - r.count;
      for (const s of [first, first + ((r.count / 2) | 0), r.next - 1]) {
        if (!same(r.payload(s), bytes(s, 1 + ((s * 7) % 1500))) || r.view(s) !== s >> 8) {
          expect.fail(`seq ${s} corrupted in round ${round}`);
        }
      }
    }
  });

  it('matches a Map of copies under any sequence of pushes and frees (model-based)', () => {
    const op = fc.oneof(
      fc.record({ push: fc.integer({ min: 0, max: 5000 }), view: fc.integer({ min: 0, max: 2 ** 40 }) }),
      fc.record({ free: fc.integer({ min: 0, max: 40 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 33 }), fc.array(op, { maxLength: 300 }), (start, ops) => {
        const r = new PayloadRing(start);
        const model = new Map<number, { payload: Uint8Array; view: number }>();
        let next = start;
        let bottom = start;
        for (const o of ops) {
          if ('push' in o) {
            const p = bytes(next, o.push);
            r.push(next, p, o.view);
            model.set(next, { payload: p, view: o.view });
            next++;
          } else {
            const to = bottom - 1 + o.free;
            r.freeTo(to);
            for (let s = bottom; s <= to; s++) model.delete(s);
            bottom = Math.max(bottom, to + 1);
            next = Math.max(next, bottom);
          }
          expect(r.count).toBe(model.size);
          expect(r.next).toBe(next);
          let total = 0;
          for (const m of model.values()) total += m.payload.length;
          expect(r.bytes).toBe(total);
        }
        for (let s = bottom - 2; s < next + 2; s++) {
          const m = model.get(s);
          expect(r.has(s)).toBe(m !== undefined);
          if (m) {
            expect(same(r.payload(s), m.payload)).toBe(true);
            expect(r.view(s)).toBe(m.view);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
