/**
 * A string -> slot (non-negative integer) hash table for the journal index: open addressing with linear
 * probing, in typed arrays. It replaces a `Map<string, number>` per queue because an enqueue needs
 * "insert, telling me what was there" in one probe (a Map needs get then set), and because a Map that
 * grows to hundreds of thousands of entries rehashes through freshly allocated tables; here the
 * probe arrays are two typed arrays and one array of key references.
 *
 * Layout (capacity a power of two, at most half full so probe runs stay short):
 *   hashes[i]  32-bit hash of the key in bucket i (compared before the key itself)
 *   values[i]  slot of the key in bucket i, or -1 when the bucket is empty
 *   keys[i]    the key
 * Deletion shifts later members of the probe run back (no tombstones), so a lookup stops at the first
 * empty bucket. Iteration order is bucket order: callers that need enqueue order sort.
 */

const EMPTY = -1;
const MIN_CAPACITY = 16;

/** FNV-1a over UTF-16 code units, then the murmur3 finalizer so that the low bits (the bucket) mix. */
export function hashId(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export class IdTable {
  private hashes: Int32Array;
  private values: Int32Array;
  private keys: Array<string | undefined>;
  private mask: number;
  size = 0;

  constructor(capacity = MIN_CAPACITY) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.hashes = new Int32Array(cap);
    this.values = new Int32Array(cap).fill(EMPTY);
    this.keys = new Array<string | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  /** The key's slot, or -1. */
  get(key: string): number {
    const h = hashId(key);
    const { hashes, values, keys, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = values[i]!;
      if (v === EMPTY) return EMPTY;
      if (hashes[i] === h && keys[i] === key) return v;
    }
  }

  /** Maps `key` to `value` (>= 0); returns the slot it replaced, or -1 when the key is new. */
  set(key: string, value: number): number {
    if ((this.size + 1) * 2 > this.values.length) this.resize(this.values.length * 2);
    const h = hashId(key);
    const { hashes, values, keys, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = values[i]!;
      if (v === EMPTY) {
        hashes[i] = h;
        values[i] = value;
        keys[i] = key;
        this.size++;
        return EMPTY;
      }
      if (hashes[i] === h && keys[i] === key) {
        values[i] = value;
        return v;
      }
    }
  }

  /** Removes `key`; returns its slot, or -1 when it was not there. */
  delete(key: string): number {
    const h = hashId(key);
    const { hashes, values, keys, mask } = this;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const v = values[i]!;
      if (v === EMPTY) return EMPTY;
      if (hashes[i] === h && keys[i] === key) break;
    }
    const removed = values[i]!;
    // Backward shift: move each later member of the run into the hole unless its home bucket lies
    // cyclically in (hole, member], where moving it would put it before its home.
    let hole = i;
    for (let j = (i + 1) & mask; values[j] !== EMPTY; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      hashes[hole] = hashes[j]!;
      values[hole] = values[j]!;
      keys[hole] = keys[j];
      hole = j;
    }
    values[hole] = EMPTY;
    keys[hole] = undefined;
    this.size--;
    // Give memory back after a queue drained (a table only ever grew before).
    if (this.values.length > 1024 && this.size * 8 < this.values.length) this.resize(this.values.length / 2);
    return removed;
  }

  /** Every slot in the table, in bucket order. */
  slots(): number[] {
    const out: number[] = [];
    const values = this.values;
    for (let i = 0; i < values.length; i++) if (values[i] !== EMPTY) out.push(values[i]!);
    return out;
  }

  private resize(cap: number): void {
    const { hashes, values, keys } = this;
    this.hashes = new Int32Array(cap);
    this.values = new Int32Array(cap).fill(EMPTY);
    this.keys = new Array<string | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
    const mask = this.mask;
    for (let j = 0; j < values.length; j++) {
      if (values[j] === EMPTY) continue;
      let i = hashes[j]! & mask;
      while (this.values[i] !== EMPTY) i = (i + 1) & mask;
      this.hashes[i] = hashes[j]!;
      this.values[i] = values[j]!;
      this.keys[i] = keys[j];
    }
  }
}
