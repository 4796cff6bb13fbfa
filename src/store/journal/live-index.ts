/**
 * What the journal keeps in memory about its files: every live message (queue, id, enqueue order,
 * delivery count) with the segment, offset and length of its record (paging reads it back from
 * there), the durable-subscription records, the key/value records
 * (without their values), and per segment the live items it holds and the older segments it depends
 * on. Message bodies are not kept (except while recovering): the core holds the messages, and
 * compaction reads them back from disk. Messages are kept as columns (message-slots.ts) found through
 * one id table per queue (id-table.ts), not as an object each.
 *
 * Why dependencies: a dequeue record cancels an enqueue record in an older segment. Deleting the
 * segment holding the dequeue while the enqueue's segment still exists would bring the message back on
 * the next recovery. So a segment may be deleted only when nothing in it is live AND every segment it
 * holds a cancellation for is already gone (`deletable`). A kv-put cancels the older put of its key and
 * a kv-delete the put it deletes, in the same way. An xa-forget cancels the xa-prepare of its xid (and
 * the copy compaction moved it from), in the same way.
 */
import type { Message } from '../../core/message.js';
import type {
  DurableRecord,
  KvEntry,
  PreparedBranch,
  RecoveredQueue,
  RecoveredState,
} from '../../core/store.js';
import { xidKey } from '../../core/store.js';
import type { JournalOp } from './codec.js';
import { IdTable } from './id-table.js';
import { MessageSlots } from './message-slots.js';

const EMPTY_BODY = new Uint8Array(0);

/** What compaction needs to know about a live message (a copy: the index keeps columns, not objects). */
export interface LiveMessageView {
  readonly order: number;
  readonly seg: number;
  /** File offset and length of its enqueue (or relocate) operation in segment `seg`. */
  readonly off: number;
  readonly bytes: number;
  readonly dcSeg: number;
  readonly deliveryCount: number;
}

export class LiveDurable {
  constructor(
    public record: DurableRecord,
    public seg: number,
    public bytes: number,
  ) {}
}

export class LiveKv {
  /** Held only between recovery and the end of load(). */
  value: Uint8Array | undefined;

  constructor(
    public seg: number,
    public bytes: number,
  ) {}
}

/** A prepared XA branch: where its live xa-prepare record is. */
export class LiveXa {
  /** The record, held only between recovery and the end of load() (compaction reads it from disk). */
  branch: PreparedBranch | undefined;
  /** The segment of the copy this one replaced (compaction), which a forget must also outlive. */
  prevSeg = 0;

  constructor(
    public seg: number,
    public bytes: number,
  ) {}
}

export class SegmentInfo {
  /**
   * Live items here: messages whose enqueue (or relocate) is here, messages whose latest delivery
   * count is recorded here while their enqueue is elsewhere, durable records. Counters rather than
   * sets: compaction finds the items by reading the file, so only the numbers are needed.
   */
  live = 0;
  /** Bytes of live operations in this segment. */
  liveBytes = 0;
  /** Bytes of data in the file (header and records; preallocated zeros excluded). */
  size = 0;
  /** Older segments holding enqueues or durable-adds that records of this one cancel. */
  readonly deps = new Set<number>();

  constructor(readonly id: number) {}
}

export class JournalIndex {
  /** queue -> message id -> slot in `slots`. */
  readonly queues = new Map<string, IdTable>();
  private readonly slots = new MessageSlots();
  readonly durables = new Map<string, LiveDurable>();
  /** Key/value records: namespace -> key -> where the live put is. */
  readonly kv = new Map<string, Map<string, LiveKv>>();
  liveKv = 0;
  /** Prepared XA branches: xid key (core/xa.ts) -> where the live xa-prepare is. */
  readonly xa = new Map<string, LiveXa>();
  /** Existing segments, in id order. */
  readonly segments = new Map<number, SegmentInfo>();
  liveMessages = 0;
  /**
   * Recover messages without their bodies (kept as stubs with the body's size; the journal reads the
   * bodies it hands over back by offset): recovery then holds headers, not data. Retained messages
   * (`retained://` keys) are always kept whole: they are not paged.
   */
  bodyless = false;

  addSegment(id: number): SegmentInfo {
    let s = this.segments.get(id);
    if (s === undefined) {
      s = new SegmentInfo(id);
      this.segments.set(id, s);
    }
    return s;
  }

  removeSegment(id: number): void {
    this.segments.delete(id);
  }

  get(queue: string, id: string): LiveMessageView | undefined {
    const s = this.queues.get(queue)?.get(id) ?? -1;
    if (s < 0) return undefined;
    const t = this.slots;
    return {
      order: t.order[s]!,
      seg: t.seg[s]!,
      off: t.off[s]!,
      bytes: t.bytes[s]!,
      dcSeg: t.dcSeg[s]!,
      deliveryCount: t.count[s]!,
    };
  }

  /**
   * Where the record of live message `id` of `queue` is, written into `out` (no allocation per
   * message: paging resolves batches). False when the message is not live.
   */
  locate(queue: string, id: string, out: { seg: number; off: number; bytes: number }): boolean {
    const s = this.queues.get(queue)?.get(id) ?? -1;
    if (s < 0) return false;
    const t = this.slots;
    out.seg = t.seg[s]!;
    out.off = t.off[s]!;
    out.bytes = t.bytes[s]!;
    return true;
  }

  /**
   * The segment holding the live enqueue (or relocate) of message `id` of `queue`, or of its latest
   * delivery count (`count`); 0 when there is none. Compaction asks this for every record it reads.
   */
  segmentOf(queue: string, id: string, count: boolean): number {
    const s = this.queues.get(queue)?.get(id) ?? -1;
    if (s < 0) return 0;
    return count ? this.slots.dcSeg[s]! : this.slots.seg[s]!;
  }

  getKv(namespace: string, key: string): LiveKv | undefined {
    return this.kv.get(namespace)?.get(key);
  }

  /**
   * The slot of message `id` of `queue` when its live record is an enqueue at offset `from` or later in
   * segment `seg` (the group being filled) that replaced no earlier copy of it: a dequeue in the same
   * group can then cancel it, nothing of the message reaching the disk. -1 otherwise.
   */
  cancellable(queue: string, id: string, seg: number, from: number): number {
    const s = this.queues.get(queue)?.get(id) ?? -1;
    if (s < 0) return -1;
    const t = this.slots;
    return t.fresh[s] === 1 && t.seg[s] === seg && t.off[s]! >= from ? s : -1;
  }

  /** File offset and size of the enqueue (or relocate) record of slot `s`. */
  offsetOf(s: number): number {
    return this.slots.off[s]!;
  }

  bytesOf(s: number): number {
    return this.slots.bytes[s]!;
  }

  segOf(s: number): number {
    return this.slots.seg[s]!;
  }

  /** The record of slot `s` moved within its (not yet written) group: it now starts at `off`. */
  moveRecord(s: number, off: number): void {
    this.slots.off[s] = off;
  }

  /**
   * Applies one operation written (or read back) in segment `seg` at file offset `off`, occupying
   * `bytes` there. `order` is the enqueue order for an enqueue. `message` is kept only when recovering.
   * Returns the slot of the message for an enqueue or relocate, -1 otherwise.
   */
  apply(op: JournalOp, seg: number, off: number, bytes: number, order: number, keep: boolean): number {
    switch (op.type) {
      case 'enqueue': {
        const lm = this.insert(op.queue, op.message.id, order, seg, off, bytes);
        if (keep) this.keepMessage(lm, op.queue, op.message);
        return lm;
      }
      case 'relocate':
        return this.relocate(op.queue, op.message, op.order, op.deliveryCount, seg, off, bytes, keep);
      case 'dequeue': {
        const q = this.queues.get(op.queue);
        if (q === undefined) return -1;
        const lm = q.delete(op.messageId);
        if (lm < 0) return -1;
        if (q.size === 0) this.queues.delete(op.queue);
        this.drop(lm, seg);
        return -1;
      }
      case 'delivery-count': {
        const lm = this.queues.get(op.queue)?.get(op.messageId) ?? -1;
        if (lm < 0) return -1;
        const t = this.slots;
        t.count[lm] = op.deliveryCount;
        this.clearCount(lm);
        if (seg !== t.seg[lm]) {
          t.dcSeg[lm] = seg;
          t.dcBytes[lm] = bytes;
          const s = this.addSegment(seg);
          s.live++;
          s.liveBytes += bytes;
        }
        return -1;
      }
      case 'durable-add': {
        const old = this.durables.get(op.record.queue);
        if (old !== undefined) this.unlinkDurable(old);
        const d = new LiveDurable(op.record, seg, bytes);
        this.durables.set(op.record.queue, d);
        const s = this.addSegment(seg);
        s.live++;
        s.liveBytes += bytes;
        return -1;
      }
      case 'durable-remove': {
        const d = this.durables.get(op.queue);
        if (d !== undefined) {
          this.durables.delete(op.queue);
          this.unlinkDurable(d);
          this.addDep(seg, d.seg);
        }
        const q = this.queues.get(op.queue);
        if (q !== undefined) {
          this.queues.delete(op.queue);
          for (const lm of q.slots()) this.drop(lm, seg);
        }
        return -1;
      }
      case 'kv-put':
        this.putKv(op.namespace, op.key, seg, bytes, keep ? op.value : undefined);
        return -1;
      case 'kv-delete':
        this.deleteKv(op.namespace, op.key, seg);
        return -1;
      case 'xa-prepare': {
        const key = xidKey(op.xid);
        const e = new LiveXa(seg, bytes);
        const old = this.xa.get(key);
        if (old !== undefined) {
          // Compaction's copy (or a repeated prepare) replaces the record: the old copy stops being live.
          this.unlinkXa(old);
          this.xa.delete(key);
          e.prevSeg = old.seg;
        }
        if (keep) e.branch = { xid: op.xid, sends: op.sends, acks: op.acks };
        this.xa.set(key, e);
        const s = this.addSegment(seg);
        s.live++;
        s.liveBytes += bytes;
        return -1;
      }
      case 'xa-forget': {
        const key = xidKey(op.xid);
        const e = this.xa.get(key);
        if (e === undefined) return -1;
        this.xa.delete(key);
        this.unlinkXa(e);
        this.addDep(seg, e.seg);
        this.addDep(seg, e.prevSeg);
        return -1;
      }
    }
    return -1;
  }

  /** A kv-put of `bytes` in segment `seg`; `value` is kept only when recovering. */
  putKv(namespace: string, key: string, seg: number, bytes: number, value: Uint8Array | undefined): void {
    let ns = this.kv.get(namespace);
    if (ns === undefined) {
      ns = new Map();
      this.kv.set(namespace, ns);
    }
    const old = ns.get(key);
    if (old !== undefined) this.dropKv(old, seg);
    const e = new LiveKv(seg, bytes);
    e.value = value;
    ns.set(key, e);
    this.liveKv++;
    const s = this.addSegment(seg);
    s.live++;
    s.liveBytes += bytes;
  }

  /** A kv-delete in segment `seg`. */
  deleteKv(namespace: string, key: string, seg: number): void {
    const ns = this.kv.get(namespace);
    const old = ns?.get(key);
    if (old === undefined) return;
    ns!.delete(key);
    if (ns!.size === 0) this.kv.delete(namespace);
    this.dropKv(old, seg);
  }

  private unlinkXa(e: LiveXa): void {
    const s = this.segments.get(e.seg);
    if (s !== undefined) {
      s.live--;
      s.liveBytes -= e.bytes;
    }
    e.branch = undefined;
  }

  /** A put replaced or deleted by a record in `seg`: that record now cancels it. */
  private dropKv(e: LiveKv, seg: number): void {
    this.liveKv--;
    const s = this.segments.get(e.seg);
    if (s !== undefined) {
      s.live--;
      s.liveBytes -= e.bytes;
    }
    this.addDep(seg, e.seg);
    e.value = undefined;
  }

  private insert(queue: string, id: string, order: number, seg: number, off: number, bytes: number): number {
    let q = this.queues.get(queue);
    if (q === undefined) {
      q = new IdTable(this.slots);
      this.queues.set(queue, q);
    }
    const lm = this.slots.alloc(id, order, seg, bytes, off);
    this.liveMessages++;
    // The same id enqueued twice in one queue: the later copy replaces the earlier, as on replay.
    const old = q.set(id, lm);
    if (old >= 0) this.drop(old, seg);
    else this.slots.fresh[lm] = 1;
    const s = this.addSegment(seg);
    s.live++;
    s.liveBytes += bytes;
    return lm;
  }

  private relocate(
    queue: string,
    message: Message,
    order: number,
    deliveryCount: number,
    seg: number,
    off: number,
    bytes: number,
    keep: boolean,
  ): number {
    const t = this.slots;
    let lm = this.queues.get(queue)?.get(message.id) ?? -1;
    if (lm < 0) {
      // Recovery after the source segment was deleted: the copy is the message, placed by its order.
      lm = this.insert(queue, message.id, order, seg, off, bytes);
      t.fresh[lm] = 0;
    } else {
      const from = this.segments.get(t.seg[lm]!);
      if (from !== undefined) {
        from.live--;
        from.liveBytes -= t.bytes[lm]!;
      }
      t.prevSeg[lm] = t.seg[lm]!;
      t.seg[lm] = seg;
      t.off[lm] = off;
      t.bytes[lm] = bytes;
      const s = this.addSegment(seg);
      s.live++;
      s.liveBytes += bytes;
    }
    this.clearCount(lm);
    t.count[lm] = deliveryCount;
    if (keep) this.keepMessage(lm, queue, message);
    return lm;
  }

  private keepMessage(lm: number, queue: string, message: Message): void {
    const t = this.slots;
    if (!this.bodyless || queue.startsWith('retained://')) {
      t.message[lm] = message;
      t.bodyBytes[lm] = undefined;
      return;
    }
    t.message[lm] = { ...message, body: EMPTY_BODY };
    t.bodyBytes[lm] = message.body.byteLength;
  }

  /** Removes a live message, recording that `seg` now cancels its copies in older segments. */
  private drop(lm: number, seg: number): void {
    const t = this.slots;
    this.liveMessages--;
    const s = this.segments.get(t.seg[lm]!);
    if (s !== undefined) {
      s.live--;
      s.liveBytes -= t.bytes[lm]!;
    }
    this.clearCount(lm);
    this.addDep(seg, t.seg[lm]!);
    this.addDep(seg, t.prevSeg[lm]!);
    t.release(lm);
  }

  private clearCount(lm: number): void {
    const t = this.slots;
    const dcSeg = t.dcSeg[lm]!;
    if (dcSeg === 0) return;
    const s = this.segments.get(dcSeg);
    if (s !== undefined) {
      s.live--;
      s.liveBytes -= t.dcBytes[lm]!;
    }
    t.dcSeg[lm] = 0;
    t.dcBytes[lm] = 0;
  }

  private unlinkDurable(d: LiveDurable): void {
    const s = this.segments.get(d.seg);
    if (s !== undefined) {
      s.live--;
      s.liveBytes -= d.bytes;
    }
  }

  private addDep(seg: number, target: number): void {
    if (target === 0 || target === seg || !this.segments.has(target)) return;
    this.addSegment(seg).deps.add(target);
  }

  /**
   * Nothing live and nothing it cancels still on disk: removing the file changes no recovery. Only
   * sealed segments (older than the head) qualify.
   */
  deletable(s: SegmentInfo, head: number): boolean {
    if (s.id >= head || s.live > 0) return false;
    for (const d of s.deps) if (this.segments.has(d)) return false;
    return true;
  }

  get liveBytes(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.liveBytes;
    return n;
  }

  get dataBytes(): number {
    let n = 0;
    for (const s of this.segments.values()) n += s.size;
    return n;
  }

  /** The recovered state, queues in enqueue order; drops the message references. */
  takeRecovered(): RecoveredState {
    const queues: RecoveredQueue[] = [];
    const t = this.slots;
    for (const [queue, q] of this.queues) {
      // The table iterates in hash order; enqueue order is in the slots.
      const live = q.slots();
      live.sort((a, b) => t.order[a]! - t.order[b]!);
      const messages = [];
      for (const lm of live) {
        const message = t.message[lm];
        if (message === undefined) continue;
        const bodyBytes = t.bodyBytes[lm];
        messages.push(
          bodyBytes === undefined
            ? { message, deliveryCount: t.count[lm]! }
            : { message, deliveryCount: t.count[lm]!, bodyBytes },
        );
      }
      queues.push({ queue, messages });
    }
    t.message.length = 0;
    t.bodyBytes.length = 0;
    const kv: KvEntry[] = [];
    for (const [namespace, ns] of this.kv) {
      for (const [key, e] of ns) {
        if (e.value !== undefined) kv.push({ namespace, key, value: e.value });
        e.value = undefined;
      }
    }
    const prepared: PreparedBranch[] = [];
    for (const e of this.xa.values()) {
      if (e.branch !== undefined) prepared.push(e.branch);
      e.branch = undefined;
    }
    const state: RecoveredState = { queues, durables: [...this.durables.values()].map((d) => d.record), kv };
    // Only when there are any: a journal without XA recovers exactly what it did before.
    return prepared.length === 0 ? state : { ...state, prepared };
  }
}
