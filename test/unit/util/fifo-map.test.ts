import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FifoMap } from '../../../src/util/fifo-map.js';

/** The reference: a Map where setting moves a key to the end, evicting by insertion (not key) count. */
class Model<K, V> {
  private readonly log: Array<[K, V]> = [];
  constructor(private readonly capacity: number) {}
  set(k: K, v: V): void {
    if (this.capacity > 0) this.log.push([k, v]);
  }
  get(k: K): V | undefined {
    // The last `capacity` insertions are held; a key is there if its latest insertion is among them.
    const recent = this.log.slice(-this.capacity);
    for (let i = recent.length - 1; i >= 0; i--) if (recent[i]![0] === k) return recent[i]![1];
    return undefined;
  }
}

describe('FifoMap', () => {
  it('holds the latest value of each key among the last `capacity` insertions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.nat()), { maxLength: 200 }),
        (capacity, ops) => {
          const m = new FifoMap<number, number>(capacity);
          const model = new Model<number, number>(capacity);
          for (const [k, v] of ops) {
            m.set(k, v);
            model.set(k, v);
            for (let key = 0; key <= 12; key++) {
              expect(m.get(key)).toBe(model.get(key));
              expect(m.has(key)).toBe(model.get(key) !== undefined);
            }
          }
          expect(m.size).toBeLessThanOrEqual(capacity);
        },
      ),
    );
  });

  it('stays O(1) per insertion when full (no walk over deleted entries)', () => {
    const m = new FifoMap<string, true>(10_000);
    for (let i = 0; i < 200_000; i++) m.set(`id-${i}`, true);
    expect(m.size).toBe(10_000);
    expect(m.has('id-189999')).toBe(false);
    expect(m.has('id-190000')).toBe(true);
  });
});
