/**
 * The messages of one sender that are kept only for retransmission, as bytes: a contiguous run of seqs
 * (first .. first + count - 1), appended at the top and freed from the bottom, which is exactly how a
 * sender's unstable messages (and a receiver's delivered-but-not-stable ones) come and go.
 *
 * Why not a Map<seq, {payload, view}>: at 10 k msgs/s a message is kept ~100-200 ms (until stable), long
 * enough to live through one or two V8 scavenges, each of which copies every live young object: the
 * record, the Uint8Array view, the Map's entry, and, when the payload is a view into a received datagram,
 * the datagram's ArrayBuffer with ~17 other messages. Those copies were the p99 tail at 10 k msgs/s
 * (docs/PERFORMANCE.md, group section). Here a message costs no heap object at all: its bytes go into one
 * slab (a byte ring) and its offset, length and view counter into typed arrays indexed by seq; a
 * `Uint8Array` is made only when a message is retransmitted. Slab and index grow by doubling (bounded
 * by the flow-control windows that bound what is unstable) and shrink back once empty.
 *
 *   slab:  [ ... free ... | tail: oldest msg | ... | newest msg | head ... free ... ]   (not wrapped)
 *          [ newer msgs ... | head ... free ... | tail: oldest msg | ... older msgs ]   (wrapped)
 *
 * A message never straddles the end of the slab: when it does not fit before the end, the rest of the
 * end is left unused and it goes to offset 0 (if there is room before the tail), else the slab grows.
 */

/**
 * Small start: a member keeps one ring per other member (a 120-member view has 119), most of them idle;
 * doubling reaches a busy sender's size in a few steps.
 */
const INITIAL_SLAB = 4 * 1024;
const INITIAL_INDEX = 32;
/** An empty ring with a slab larger than this lets it go (a burst must not pin its peak). */
const SHRINK_ABOVE = 256 * 1024;
const EMPTY = new Uint8Array(0);

export class PayloadRing {
  /** Oldest seq held (when count > 0); the next `push` must be `first + count`. */
  private first: number;
  private n = 0;
  /** Payload bytes held (the byte side of a flow-control window). */
  private held = 0;
  /** Allocated on the first push (see INITIAL_SLAB). */
  private slab = EMPTY;
  /** Byte offset where the next message goes, and of the oldest message. */
  private head = 0;
  private tail = 0;
  /** Whether the newest messages sit before the oldest (head <= tail); explicit for zero-length ones. */
  private wrapped = false;
  private offsets = new Int32Array(INITIAL_INDEX);
  private lengths = new Int32Array(INITIAL_INDEX);
  /** View counters are JS numbers (a merged view's counter is above all of its parts): float64. */
  private views = new Float64Array(INITIAL_INDEX);
  private mask = INITIAL_INDEX - 1;

  /** @param next seq of the first message to be pushed. */
  constructor(next = 1) {
    this.first = next;
  }

  get count(): number {
    return this.n;
  }

  get bytes(): number {
    return this.held;
  }

  /** Seq the next `push` must carry. */
  get next(): number {
    return this.first + this.n;
  }

  has(seq: number): boolean {
    return seq >= this.first && seq < this.first + this.n;
  }

  /** Copies `payload` in as message `seq` (= `next`), sent in view `view`. */
  push(seq: number, payload: Uint8Array, view: number): void {
    if (seq !== this.first + this.n)
      throw new RangeError(`ring expects seq ${this.first + this.n}, got ${seq}`);
    if (this.n === this.offsets.length) this.growIndex();
    const len = payload.length;
    let at = this.place(len);
    if (at < 0) {
      this.growSlab(len);
      at = this.head;
    } else if (this.n > 0 && !this.wrapped && at < this.head) this.wrapped = true;
    if (this.n === 0) this.tail = at;
    this.slab.set(payload, at);
    this.head = at + len;
    const i = seq & this.mask;
    this.offsets[i] = at;
    this.lengths[i] = len;
    this.views[i] = view;
    this.n++;
    this.held += len;
  }

  /** A view of message `seq`'s bytes (valid until it is freed; copy it to keep it longer). */
  payload(seq: number): Uint8Array {
    if (!this.has(seq)) return EMPTY;
    const i = seq & this.mask;
    const at = this.offsets[i]!;
    return this.slab.subarray(at, at + this.lengths[i]!);
  }

  /** Counter of the view message `seq` was sent in; -1 when not held. */
  view(seq: number): number {
    return this.has(seq) ? this.views[seq & this.mask]! : -1;
  }

  /** Frees every message up to and including `seq`. */
  freeTo(seq: number): void {
    while (this.n > 0 && this.first <= seq) {
      const i = this.first & this.mask;
      this.held -= this.lengths[i]!;
      this.first++;
      this.n--;
      if (this.n > 0) {
        const next = this.offsets[this.first & this.mask]!;
        // The oldest message is now one of the front: the held run no longer wraps.
        if (next < this.tail) this.wrapped = false;
        this.tail = next;
      }
    }
    // Also when nothing was held: later pushes continue after `seq`.
    if (this.n === 0) {
      if (seq >= this.first) this.first = seq + 1;
      this.head = 0;
      this.tail = 0;
      this.wrapped = false;
      if (this.slab.length > SHRINK_ABOVE) this.slab = EMPTY;
    }
  }

  /** Offset where `len` bytes fit without overwriting a held message, or -1. */
  private place(len: number): number {
    if (this.n === 0) return len <= this.slab.length && this.slab !== EMPTY ? 0 : -1;
    const { head, tail } = this;
    if (!this.wrapped) {
      // After the head, else wrapped to the front, up to the oldest message.
      if (this.slab.length - head >= len) return head;
      return len <= tail ? 0 : -1;
    }
    // Wrapped: only between the head and the oldest message.
    return tail - head >= len ? head : -1;
  }

  /** A bigger slab with the held messages copied to its front, oldest first. */
  private growSlab(len: number): void {
    let size = Math.max(INITIAL_SLAB, this.slab.length * 2);
    while (size < this.held + len) size *= 2;
    const slab = new Uint8Array(size);
    let at = 0;
    for (let k = 0; k < this.n; k++) {
      const i = (this.first + k) & this.mask;
      const off = this.offsets[i]!;
      const l = this.lengths[i]!;
      slab.set(this.slab.subarray(off, off + l), at);
      this.offsets[i] = at;
      at += l;
    }
    this.slab = slab;
    this.tail = 0;
    this.head = at;
    this.wrapped = false;
  }

  private growIndex(): void {
    const size = this.offsets.length * 2;
    const offsets = new Int32Array(size);
    const lengths = new Int32Array(size);
    const views = new Float64Array(size);
    const mask = size - 1;
    for (let k = 0; k < this.n; k++) {
      const seq = this.first + k;
      const from = seq & this.mask;
      const to = seq & mask;
      offsets[to] = this.offsets[from]!;
      lengths[to] = this.lengths[from]!;
      views[to] = this.views[from]!;
    }
    this.offsets = offsets;
    this.lengths = lengths;
    this.views = views;
    this.mask = mask;
  }
}
