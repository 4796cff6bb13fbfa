/**
 * A string -> slot (non-negative integer) hash table for the journal index: open addressing with linear
 * probing, in one typed array. It replaces a `Map<string, number>` per queue because an enqueue needs
 * "insert, telling me what was there" in one probe (a Map needs get then set), and because a Map that
 * grows to hundreds of thousands of entries rehashes through freshly allocated tables.
 *
 * The table holds no key: each value is a slot of a column store (message-slots.ts) that keeps the
 * slot's key, and the table asks it (`SlotKeys.hasKey`) when a hash matches. A table holding the id
 * strings kept one JS string per live message reachable from the heap: every id survived two scavenges
 * and was promoted to the old generation, which at 1,000 writes per sync was the largest part of the
 * journal's GC (bench/journal.mjs, docs/STORAGE.md "Performance").
 *
 * Layout (capacity a power of two, at most half full so probe runs stay short), bucket i at 2i:
 *   buckets[2i]      32-bit hash of the key (compared before the key itself; rehashing reads it back)
 *   buckets[2i + 1]  the slot + 1, or 0 when the bucket is empty (a new table needs no filling: its
 *                    pages stay untouched until used)
 * Hash and slot share a cache line, so a probe that finds an empty bucket or a foreign hash touches
 * one line (and consecutive ids share lines: `hashId`). Deletion shifts later members of the probe run
 * back (no tombstones), so a lookup stops at the first empty bucket. Iteration order is bucket order:
 * callers that need enqueue order sort.
 */

/** What `get`, `set` and `delete` return for "no such key". */
const NONE = -1;
/** An empty bucket's value cell (slot + 1 is stored). */
const EMPTY = 0;
const MIN_CAPACITY = 16;

/** Where an IdTable finds the keys of its values. */
export interface SlotKeys {
  /** Whether `key` is the key of slot `value`. */
  hasKey(value: number, key: string): boolean;
}

/**
 * FNV-1a over UTF-16 code units, then the murmur3 finalizer so that the low bits (the bucket) mix.
 *
 * An id ending in a number written in base 36 (`[0-9a-z]`: broker-assigned ids are
 * `ID:<instance>:<sequence in base 36>`, core/broker.ts `nextMessageId`) is hashed as its prefix plus
 * n / 8, and n's low 3 bits are put back as the hash's low bits (rotated by the line's hash): the ids
 * n..n+7 of one prefix then fill one aligned run of 8 buckets, i.e. one 64-byte line. A queue fed in id order (and drained in that order)
 * touches a new cache line every 8 messages instead of at each one; in a table of hundreds of thousands
 * of entries those misses were a large part of an insert (micro-benchmark, 1M buckets: ~260 -> ~150 ns).
 * The runs themselves land at random, and an id without such a tail keeps a fully mixed hash. Ids of a
 * queue that gets every k-th number still spread: their runs are random lines.
 */
const MAX_TAIL = 36 ** 5;

export function hashId(s: string): number {
  let end = s.length;
  let n = 0;
  let scale = 1;
  // At most 5 trailing base-36 digits (n < 36^5 stays a small integer); earlier ones count as prefix.
  while (end > 0 && scale < MAX_TAIL) {
    const c = s.charCodeAt(end - 1);
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x7a ? c - 0x57 : -1;
    if (d < 0) break;
    n += d * scale;
    scale *= 36;
    end--;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  if (end === s.length) return mix(h);
  // n's low bits are offset by the line's own hash, so that ids sharing a constant tail (`...-x`) but not
  // their prefix do not all land on the same bucket of each line.
  const line = mix(h + (n >>> 3));
  return (line & ~7) | ((n + (line >>> 29)) & 7);
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

export class IdTable {
  private buckets: Int32Array;
  private mask: number;
  size = 0;

  constructor(
    private readonly keys: SlotKeys,
    capacity = MIN_CAPACITY,
  ) {
    let cap = MIN_CAPACITY;
    while (cap < capacity) cap *= 2;
    this.buckets = new Int32Array(2 * cap);
    this.mask = cap - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** The key's slot, or -1. */
  get(key: string): number {
    const h = hashId(key);
    const { buckets, mask, keys } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = buckets[2 * i + 1]! - 1;
      if (v === NONE) return NONE;
      if (buckets[2 * i] === h && keys.hasKey(v, key)) return v;
    }
  }

  /**
   * Maps `key` to slot `value` (>= 0), whose key store must already hold `key`; returns the slot it
   * replaced, or -1 when the key is new.
   */
  set(key: string, value: number): number {
    if ((this.size + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2);
    const h = hashId(key);
    const { buckets, mask, keys } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = buckets[2 * i + 1]! - 1;
      if (v === NONE) {
        buckets[2 * i] = h;
        buckets[2 * i + 1] = value + 1;
        this.size++;
        return NONE;
      }
      if (buckets[2 * i] === h && keys.hasKey(v, key)) {
        buckets[2 * i + 1] = value + 1;
        return v;
      }
    }
  }

  /** Removes `key`; returns its slot, or -1 when it was not there. */
  delete(key: string): number {
    const h = hashId(key);
    const { buckets, mask, keys } = this;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const v = buckets[2 * i + 1]! - 1;
      if (v === NONE) return NONE;
      if (buckets[2 * i] === h && keys.hasKey(v, key)) break;
    }
    const removed = buckets[2 * i + 1]! - 1;
    // Backward shift: move each later member of the run into the hole unless its home bucket lies
    // cyclically in (hole, member], where moving it would put it before its home.
    let hole = i;
    for (let j = (i + 1) & mask; buckets[2 * j + 1] !== EMPTY; j = (j + 1) & mask) {
      const home = buckets[2 * j]! & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      buckets[2 * hole] = buckets[2 * j]!;
      buckets[2 * hole + 1] = buckets[2 * j + 1]!;
      hole = j;
    }
    buckets[2 * hole + 1] = EMPTY;
    this.size--;
    // Give memory back after a queue drained (a table only ever grew before).
    if (mask >= 1024 && this.size * 8 < mask + 1) this.resize((mask + 1) / 2);
    return removed;
  }

  /** Every slot in the table, in bucket order. */
  slots(): number[] {
    const out: number[] = [];
    const buckets = this.buckets;
    for (let i = 1; i < buckets.length; i += 2) if (buckets[i] !== EMPTY) out.push(buckets[i]! - 1);
    return out;
  }

  /** Rehashes from the stored hashes: no key is read. */
  private resize(cap: number): void {
    const old = this.buckets;
    const buckets = new Int32Array(2 * cap);
    const mask = cap - 1;
    for (let j = 0; j < old.length; j += 2) {
      const v = old[j + 1]!;
      if (v === EMPTY) continue;
      const h = old[j]!;
      let i = h & mask;
      while (buckets[2 * i + 1] !== EMPTY) i = (i + 1) & mask;
      buckets[2 * i] = h;
      buckets[2 * i + 1] = v;
    }
    this.buckets = buckets;
    this.mask = mask;
  }
}
