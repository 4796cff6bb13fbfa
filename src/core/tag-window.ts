/**
 * The unsettled deliveries of one subscription, by delivery tag (what a `Map<number, T>` did, for less).
 *
 * Tags are handed out in increasing order and are mostly settled in about that order, so the entries
 * live in a ring indexed by `tag & mask`, covering the tags `base .. end - 1`: adding, finding and
 * removing are an array access, with no hashing and no allocation per delivery (a Map cost ~70 ns and a
 * table entry per delivery on the hot path, the largest item of the core's own CPU profile).
 *
 * A delivery left unsettled far behind the others (a client that never acks one message) would make the
 * ring span every tag handed out since. Past `maxSpan` tags, the oldest entries move to a Map (`far`), so
 * memory stays proportional to the entries held, not to the tags seen: the common case pays for the
 * ring only, the pathological one for a Map as before.
 *
 * Invariants: every tag in `far` is below `base`, and `far` receives tags in increasing order (its
 * insertion order is tag order); `base === end` or the ring slot of `base` is occupied.
 */
export class TagWindow<T> {
  private ring: (T | undefined)[] = new Array<T | undefined>(16).fill(undefined);
  private mask = 15;
  /** Oldest tag the ring covers (its slot is occupied unless the ring is empty). */
  private base = 0;
  /** One past the newest tag added. */
  private end = 0;
  private inRing = 0;
  private far: Map<number, T> | undefined;
  private readonly maxSpan: number;

  /** `maxSpan`: most tags the ring may cover (rounded up to a power of two, at least 16). */
  constructor(maxSpan: number) {
    let span = 16;
    while (span < maxSpan) span *= 2;
    this.maxSpan = span;
  }

  get size(): number {
    return this.inRing + (this.far === undefined ? 0 : this.far.size);
  }

  /** Adds `item` under `tag`, which must be above every tag added before. */
  add(tag: number, item: T): void {
    if (tag < this.end) throw new Error(`TagWindow: tag ${tag} is not above ${this.end - 1}`);
    if (this.inRing === 0) {
      // Empty ring: start it at this tag, so the span is what is actually outstanding.
      this.base = tag;
    } else if (tag - this.base >= this.ring.length) {
      this.makeRoom(tag);
    }
    this.ring[tag & this.mask] = item;
    this.inRing++;
    this.end = tag + 1;
  }

  get(tag: number): T | undefined {
    if (this.inRange(tag)) return this.ring[tag & this.mask];
    return this.far?.get(tag);
  }

  /** Removes and returns the entry of `tag` (undefined when there is none). */
  delete(tag: number): T | undefined {
    if (this.inRange(tag)) {
      const i = tag & this.mask;
      const item = this.ring[i];
      if (item === undefined) return undefined;
      this.ring[i] = undefined;
      this.inRing--;
      if (tag === this.base) this.advance();
      return item;
    }
    const far = this.far;
    if (far === undefined) return undefined;
    const item = far.get(tag);
    if (item !== undefined) far.delete(tag);
    return item;
  }

  /** The lowest tag held, or undefined when empty. */
  oldest(): number | undefined {
    const far = this.far;
    if (far !== undefined && far.size > 0) return far.keys().next().value;
    return this.inRing > 0 ? this.base : undefined;
  }

  /** Removes everything; returns the entries in tag order. */
  takeAll(): T[] {
    const out: T[] = [];
    if (this.far !== undefined) {
      for (const item of this.far.values()) out.push(item);
      this.far = undefined;
    }
    for (let t = this.base; t < this.end && this.inRing > 0; t++) {
      const i = t & this.mask;
      const item = this.ring[i];
      if (item === undefined) continue;
      out.push(item);
      this.ring[i] = undefined;
      this.inRing--;
    }
    this.base = this.end;
    return out;
  }

  /** A tag the ring covers; a fractional one (from a client) must not alias an integer slot. */
  private inRange(tag: number): boolean {
    return tag >= this.base && tag < this.end && Number.isInteger(tag);
  }

  /** Moves `base` up to the next occupied slot (each tag is passed once: O(1) amortized). */
  private advance(): void {
    if (this.inRing === 0) {
      this.base = this.end;
      return;
    }
    let b = this.base + 1;
    while (this.ring[b & this.mask] === undefined) b++;
    this.base = b;
  }

  /** The ring must cover `base .. tag`: grow it, or past maxSpan move its oldest entries to `far`. */
  private makeRoom(tag: number): void {
    let size = this.ring.length;
    while (tag - this.base >= size && size < this.maxSpan) size *= 2;
    if (size > this.ring.length) this.resize(size);
    while (tag - this.base >= this.ring.length) {
      const i = this.base & this.mask;
      const item = this.ring[i]!;
      this.ring[i] = undefined;
      this.inRing--;
      if (this.far === undefined) this.far = new Map();
      this.far.set(this.base, item);
      this.advance();
      // The ring emptied: the new tag starts it afresh.
      if (this.inRing === 0) this.base = tag;
    }
  }

  private resize(size: number): void {
    const old = this.ring;
    const oldMask = this.mask;
    const ring = new Array<T | undefined>(size).fill(undefined);
    const mask = size - 1;
    for (let t = this.base; t < this.end; t++) ring[t & mask] = old[t & oldMask];
    this.ring = ring;
    this.mask = mask;
  }
}
