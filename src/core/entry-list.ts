/**
 * The pending messages of a queue: one intrusive doubly linked FIFO per JMS priority (0..9), so that
 * taking the head, appending, and unlinking a message skipped by a selector are all O(1), and messages
 * coming back for redelivery are re-inserted in their original order (by `seq`).
 */
import type { Message } from './message.js';

export const PRIORITY_LEVELS = 10;

export class QueueEntry {
  prev: QueueEntry | undefined = undefined;
  next: QueueEntry | undefined = undefined;
  /** True while linked into a PriorityList. */
  linked = false;
  constructor(
    readonly message: Message,
    /** Enqueue order within the queue; restores FIFO order on redelivery. */
    readonly seq: number,
    /** Deliveries so far (incremented when handed to a consumer). */
    public deliveryCount: number,
    /** Recovered from the store: may have been delivered before the restart. */
    public maybeDelivered: boolean,
    /** Written to the store (persistent message on a stored queue): acks must dequeue it there. */
    readonly stored: boolean,
  ) {}
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

  constructor() {
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
    e.linked = true;
    this.count++;
    if (p > this.top) this.top = p;
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
    e.linked = true;
    this.count++;
    if (p > this.top) this.top = p;
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
    }
    for (const level of this.levels) level.head = level.tail = undefined;
    this.count = 0;
    this.top = -1;
  }
}
