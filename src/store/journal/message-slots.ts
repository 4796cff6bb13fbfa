/**
 * The journal index's per-message bookkeeping as columns of typed arrays, addressed by a slot number.
 * A queue's map then holds small integers (Smis) instead of one object per live message: at hundreds
 * of thousands of live messages the objects were the largest cost of an insert and most of the GC
 * (each one survived into the old generation). Freed slots are reused, last freed first.
 *
 * Columns (slot s):
 *   order[s]     enqueue order, global and persistent: recovery sorts queues by it
 *   seg[s]       segment holding the enqueue (or relocate) record
 *   off[s]       file offset of that operation in its segment (paging reads it back with one pread)
 *   bytes[s]     size of that operation
 *   count[s]     delivery count
 *   dcSeg[s]     segment of the latest delivery-count record when it is not seg[s] (0 = none)
 *   dcBytes[s]   size of that record
 *   prevSeg[s]   segment a compaction copied the message out of, until it is deleted (0 = none)
 *   fresh[s]     1 when its record is an enqueue that replaced no earlier copy of the message: a
 *                dequeue in the same group may then cancel both (journal.ts `cancelEnqueue`)
 *   message[s]   the message, held only between recovery and the end of load()
 *   bodyBytes[s] when message[s] was kept without its body (recovery for paging): the body's size
 *   idLen[s]     length of the message id, its Latin-1 characters in idChars[s * ID_INLINE ...]; or
 *                ID_LONG when the id is longer or wider, kept as a string in `longIds`
 *
 * The ids are the keys of the queues' id tables (id-table.ts `SlotKeys`). Kept as bytes, not strings,
 * so that no JS object per live message stays reachable: an id string held by the index survived two
 * scavenges and then burdened the old generation, the largest part of the journal's GC at 1,000
 * writes per sync. Broker-assigned ids (`ID:<8 hex>:<n>`) are ~20 Latin-1 characters.
 */
import type { Message } from '../../core/message.js';
import type { SlotKeys } from './id-table.js';

/** Id characters kept inline per slot. */
export const ID_INLINE = 32;
/** idLen of an id kept in `longIds` (longer than ID_INLINE, or a character above U+00FF). */
const ID_LONG = 255;

export class MessageSlots implements SlotKeys {
  order = new Float64Array(0);
  seg = new Uint32Array(0);
  off = new Float64Array(0);
  bytes = new Uint32Array(0);
  count = new Uint32Array(0);
  dcSeg = new Uint32Array(0);
  dcBytes = new Uint32Array(0);
  prevSeg = new Uint32Array(0);
  fresh = new Uint8Array(0);
  idLen = new Uint8Array(0);
  idChars = new Uint8Array(0);
  private readonly longIds = new Map<number, string>();
  readonly message: Array<Message | undefined> = [];
  readonly bodyBytes: Array<number | undefined> = [];
  /** Slots ever handed out; those below it are in use or on the free list. */
  private used = 0;
  private free = new Int32Array(0);
  private freeCount = 0;

  constructor(initial = 1024) {
    this.grow(initial);
  }

  get capacity(): number {
    return this.order.length;
  }

  /** A slot for message `id` (its key from now on: `hasKey`). */
  alloc(id: string, order: number, seg: number, bytes: number, off = 0): number {
    let s: number;
    if (this.freeCount > 0) s = this.free[--this.freeCount]!;
    else {
      if (this.used === this.order.length) this.grow(this.order.length * 2);
      s = this.used++;
    }
    this.order[s] = order;
    this.seg[s] = seg;
    this.off[s] = off;
    this.bytes[s] = bytes;
    this.count[s] = 0;
    this.dcSeg[s] = 0;
    this.dcBytes[s] = 0;
    this.prevSeg[s] = 0;
    this.fresh[s] = 0;
    this.setId(s, id);
    return s;
  }

  private setId(s: number, id: string): void {
    const n = id.length;
    if (n <= ID_INLINE) {
      const chars = this.idChars;
      const at = s * ID_INLINE;
      let i = 0;
      for (; i < n; i++) {
        const c = id.charCodeAt(i);
        if (c > 0xff) break;
        chars[at + i] = c;
      }
      if (i === n) {
        this.idLen[s] = n;
        return;
      }
    }
    this.idLen[s] = ID_LONG;
    this.longIds.set(s, id);
  }

  hasKey(s: number, key: string): boolean {
    const n = this.idLen[s]!;
    if (n === ID_LONG) return this.longIds.get(s) === key;
    if (key.length !== n) return false;
    const chars = this.idChars;
    const at = s * ID_INLINE;
    for (let i = 0; i < n; i++) if (chars[at + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** The message id of slot `s` (tests and diagnostics: the hot paths compare with `hasKey`). */
  idOf(s: number): string {
    const n = this.idLen[s]!;
    if (n === ID_LONG) return this.longIds.get(s)!;
    return String.fromCharCode(...this.idChars.subarray(s * ID_INLINE, s * ID_INLINE + n));
  }

  release(s: number): void {
    if (this.idLen[s] === ID_LONG) this.longIds.delete(s);
    if (s < this.message.length) this.message[s] = undefined;
    if (s < this.bodyBytes.length) this.bodyBytes[s] = undefined;
    this.free[this.freeCount++] = s;
  }

  private grow(size: number): void {
    const n = Math.max(size, 16);
    const widen = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(
      a: T,
      make: (n: number) => T,
    ): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.order = widen(this.order, (k) => new Float64Array(k));
    this.seg = widen(this.seg, (k) => new Uint32Array(k));
    this.off = widen(this.off, (k) => new Float64Array(k));
    this.bytes = widen(this.bytes, (k) => new Uint32Array(k));
    this.count = widen(this.count, (k) => new Uint32Array(k));
    this.dcSeg = widen(this.dcSeg, (k) => new Uint32Array(k));
    this.dcBytes = widen(this.dcBytes, (k) => new Uint32Array(k));
    this.prevSeg = widen(this.prevSeg, (k) => new Uint32Array(k));
    this.fresh = widen(this.fresh, (k) => new Uint8Array(k));
    this.idLen = widen(this.idLen, (k) => new Uint8Array(k));
    const chars = new Uint8Array(n * ID_INLINE);
    chars.set(this.idChars);
    this.idChars = chars;
    // Slots are only added when none is free: the free list is empty here, nothing to copy.
    this.free = new Int32Array(n);
  }
}
