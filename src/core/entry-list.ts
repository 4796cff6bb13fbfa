/**
 * The pending messages of a queue: one intrusive doubly linked FIFO per JMS priority (0..9), so that
 * taking the head, appending, and unlinking a message skipped by a selector are all O(1), and messages
 * coming back for redelivery are re-inserted in their original order (by `seq`).
 *
 * The list also counts its paged-out entries, whoever links or unlinks them. For a paging queue
 * (core/paging.ts) it keeps its resident stored entries on a second intrusive list, newest at the tail
 * (entries coming back, by redelivery or page-in, go to the head: they are next to be delivered), with
 * their body bytes: paging out walks that list from the tail and touches only what it pages out.
 */
import type { Message } from './message.js';

export const PRIORITY_LEVELS = 10;

export class QueueEntry {
  prev: QueueEntry | undefined = undefined;
  next: QueueEntry | undefined = undefined;
  /** True while linked into a PriorityList. */
  linked = false;
  /**
   * Body paged out to the store (core/paging.ts): `message` is then a stub with an empty body that
   * keeps every header and property (selectors, groups, priority, expiry still work on it).
   */
  paged = false;
  /** Body size of the message while it is paged out. */
  pagedBytes = 0;
  /** Neighbours on the list's resident list (paging queues only). */
  rPrev: QueueEntry | undefined = undefined;
  rNext: QueueEntry | undefined = undefined;
  rLinked = false;
  constructor(
    /** The message; replaced by its stub when paged out and by the stored copy when paged back in. */
    public message: Message,
    /** Enqueue order within the queue; restores FIFO order on redelivery. */
    readonly seq: number,
    /** Deliveries so far (incremented when handed to a consumer). */
    public deliveryCount: number,
    /** Recovered from the store: may have been delivered before the restart. */
    public maybeDelivered: boolean,
    /** Written to the store (persistent message on a stored queue): acks must dequeue it there. */
    readonly stored: boolean,
  ) {}

  /** Body size, also while paged out (memory accounting, batch sizing). */
  get bodyBytes(): number {
    return this.paged ? this.pagedBytes : this.message.body.byteLength;
  }
}

interface Level {
  head: QueueEntry | undefined;
  tail: QueueEntry | undefined;
}

export class PriorityList {
  private readonly levels: Level[] = [];
  private count = 0;
  /** Highest level that may be non-empty; keeps `first()` from scanning empty levels. */
  private top = -1;
  /** Linked entries whose body is paged out. */
  paged = 0;
  /** Body bytes of the resident list: linked stored entries whose body is in memory (paging queues). */
  residentBytes = 0;
  private rHead: QueueEntry | undefined;
  private rTail: QueueEntry | undefined;

  /**
   * `shared` (given for a paging queue) turns on the resident list; it receives every change of
   * `residentBytes`: the broker-wide total of core/paging.ts.
   */
  constructor(private readonly shared?: { residentBytes: number }) {
    for (let i = 0; i < PRIORITY_LEVELS; i++) this.levels.push({ head: undefined, tail: undefined });
  }

  get length(): number {
    return this.count;
  }

  push(e: QueueEntry): void {
    const p = e.message.priority;
    const level = this.levels[p]!;
    e.prev = level.tail;
    e.next = undefined;
    if (level.tail === undefined) level.head = e;
    else level.tail.next = e;
    level.tail = e;
    this.linkedIn(e, p, false);
  }

  private linkedIn(e: QueueEntry, p: number, old: boolean): void {
    e.linked = true;
    this.count++;
    if (e.paged) this.paged++;
    else if (this.shared !== undefined && e.stored) this.residentIn(e, old);
    if (p > this.top) this.top = p;
  }

  /** Onto the resident list: at the tail, or at the head for an `old` entry (it comes back). */
  private residentIn(e: QueueEntry, old: boolean): void {
    if (old) {
      e.rPrev = undefined;
      e.rNext = this.rHead;
      if (this.rHead === undefined) this.rTail = e;
      else this.rHead.rPrev = e;
      this.rHead = e;
    } else {
      e.rNext = undefined;
      e.rPrev = this.rTail;
      if (this.rTail === undefined) this.rHead = e;
      else this.rTail.rNext = e;
      this.rTail = e;
    }
    e.rLinked = true;
    this.addResident(e.message.body.byteLength);
  }

  private residentOut(e: QueueEntry): void {
    if (!e.rLinked) return;
    if (e.rPrev === undefined) this.rHead = e.rNext;
    else e.rPrev.rNext = e.rNext;
    if (e.rNext === undefined) this.rTail = e.rPrev;
    else e.rNext.rPrev = e.rPrev;
    e.rPrev = e.rNext = undefined;
    e.rLinked = false;
    this.addResident(-e.message.body.byteLength);
  }

  private addResident(n: number): void {
    this.residentBytes += n;
    this.shared!.residentBytes += n;
  }

  /** The newest entry of the resident list (walk older ones through `rPrev`). */
  residentTail(): QueueEntry | undefined {
    return this.rTail;
  }

  /** Inserts by `seq` (returned messages keep their place ahead of later ones). */
  insertOrdered(e: QueueEntry): void {
    const p = e.message.priority;
    const level = this.levels[p]!;
    let after = level.tail;
    // Returned messages are usually older than everything pending, so walk from the tail only while
    // the neighbour is younger: O(1) for an append, O(pending) worst case for a very old message.
    while (after !== undefined && after.seq > e.seq) after = after.prev;
    if (after === undefined) {
      e.prev = undefined;
      e.next = level.head;
      if (level.head === undefined) level.tail = e;
      else level.head.prev = e;
      level.head = e;
    } else {
      e.prev = after;
      e.next = after.next;
      if (after.next === undefined) level.tail = e;
      else after.next.prev = e;
      after.next = e;
    }
    this.linkedIn(e, p, true);
  }

  remove(e: QueueEntry): void {
    if (!e.linked) return;
    const level = this.levels[e.message.priority]!;
    if (e.prev === undefined) level.head = e.next;
    else e.prev.next = e.next;
    if (e.next === undefined) level.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = e.next = undefined;
    e.linked = false;
    this.count--;
    if (e.paged) this.paged--;
    else this.residentOut(e);
  }

  /** `e` (linked or not) drops its body for `stub`; the counters follow when it is linked. */
  pageOut(e: QueueEntry, stub: Message): void {
    if (e.paged) return;
    this.residentOut(e);
    e.pagedBytes = e.message.body.byteLength;
    e.message = stub;
    e.paged = true;
    if (e.linked) this.paged++;
  }

  /** An unlinked entry whose message came without its body (`bodyBytes` long) starts paged out. */
  startPaged(e: QueueEntry, bodyBytes: number): void {
    if (e.linked || e.paged) throw new Error('startPaged: entry already linked or paged');
    e.paged = true;
    e.pagedBytes = bodyBytes;
  }

  /** `e` gets its whole message back. */
  pageIn(e: QueueEntry, message: Message): void {
    if (!e.paged) return;
    e.message = message;
    e.paged = false;
    e.pagedBytes = 0;
    if (!e.linked) return;
    this.paged--;
    if (this.shared !== undefined && e.stored) this.residentIn(e, true);
  }

  /** First entry in delivery order (highest priority, oldest first). */
  first(): QueueEntry | undefined {
    while (this.top >= 0) {
      const head = this.levels[this.top]!.head;
      if (head !== undefined) return head;
      this.top--;
    }
    return undefined;
  }

  /**
   * The entry enqueued first (lowest `seq`): each level is in `seq` order, so it is one of the heads.
   * O(levels), for the admin "oldest message age" without walking the list.
   */
  oldest(): QueueEntry | undefined {
    let best: QueueEntry | undefined;
    for (let p = 0; p <= this.top; p++) {
      const head = this.levels[p]!.head;
      if (head !== undefined && (best === undefined || head.seq < best.seq)) best = head;
    }
    return best;
  }

  /** The entry after `e` in delivery order; `e` must still be linked. */
  after(e: QueueEntry): QueueEntry | undefined {
    if (e.next !== undefined) return e.next;
    for (let p = e.message.priority - 1; p >= 0; p--) {
      const head = this.levels[p]!.head;
      if (head !== undefined) return head;
    }
    return undefined;
  }

  *[Symbol.iterator](): IterableIterator<QueueEntry> {
    for (let e = this.first(); e !== undefined; ) {
      const next = this.after(e);
      yield e;
      e = next;
    }
  }

  clear(): void {
    for (const e of this) {
      e.prev = e.next = undefined;
      e.linked = false;
      e.rPrev = e.rNext = undefined;
      e.rLinked = false;
    }
    for (const level of this.levels) level.head = level.tail = undefined;
    this.count = 0;
    this.top = -1;
    this.paged = 0;
    this.rHead = this.rTail = undefined;
    if (this.shared !== undefined) this.addResident(-this.residentBytes);
  }
}
