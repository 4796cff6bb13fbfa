/**
 * A point-to-point queue (also the internal queue behind each durable topic subscription).
 *
 * Dispatch invariant: after every dispatch step, no pending message can be handed to any consumer that
 * has credit. Hence a new message only needs to be offered on its own (O(consumers)), and a full pass
 * over the pending list runs only when something can make a pending message deliverable: a consumer
 * gains credit (ack, resume, new turn, new consumer), a message group is released, or messages come
 * back for redelivery. Without selectors or groups a pass stops at the first message that finds no
 * consumer with credit, so the hot path is O(1) per message. Messages skipped by every selector stay
 * pending and are re-examined by each pass (ActiveMQ behaves the same within its paged-in window).
 *
 * Dispatch is re-entrant safe: a sink may ack, nack, send or close synchronously inside `deliver`;
 * nested requests only set `again` and the outermost loop runs another pass.
 *
 * Paging (core/paging.ts, queue-pager.ts): a stored queue over a store that can read messages back
 * drops the bodies of durable pending persistent messages under memory pressure. A paged entry cannot
 * be delivered: a pass that reaches one that some consumer would take stops there, keeping order, and
 * its page-in re-runs the pass once the bodies are back. While anything is paged, a new message is
 * queued behind the paged ones rather than offered directly.
 */
import { BlazeError } from '../util/errors.js';
import type { CoreContext, DeadLetterReason } from './context.js';
import { isExpired } from './context.js';
import { PriorityList, QueueEntry } from './entry-list.js';
import { MemoryMeter, messageBytes } from './memory.js';
import type { Message } from './message.js';
import type { DestinationPolicy } from './policy.js';
import { type PagingHost, QueuePager } from './queue-pager.js';

/** What a queue needs from a consumer; implemented by QueueConsumer. */
export interface QueueConsumerSlot {
  /** Not paused, not closed, and below its prefetch (or per-turn budget for auto ack). */
  hasCredit(): boolean;
  /** Selector check. */
  accepts(message: Message): boolean;
  /** Hands over an entry already removed from the pending list. */
  deliver(entry: QueueEntry): void;
  /** Message groups this consumer owns (released when it leaves). */
  readonly groups: Set<string>;
}

export interface QueueStats {
  readonly address: string;
  /** Pending + in flight: every message not yet acknowledged (ActiveMQ QueueSize). */
  readonly depth: number;
  /** Bytes held (pending + in flight), as counted against the memory limits. */
  readonly memoryBytes: number;
  /** True while producers to this queue wait for it to drain (its memory limit was reached). */
  readonly blocked: boolean;
  readonly pending: number;
  /** Pending messages whose body is paged out to the store (core/paging.ts). */
  readonly paged: number;
  readonly inFlight: number;
  readonly enqueued: number;
  readonly dequeued: number;
  readonly expired: number;
  readonly deadLettered: number;
  readonly consumers: number;
}

export class Queue implements PagingHost {
  readonly pending: PriorityList;
  readonly consumers: QueueConsumerSlot[] = [];
  /** Bytes of pending and in-flight messages against `policy.memoryLimit` (core/memory.ts). */
  readonly memory: MemoryMeter;
  private readonly groupOwners = new Map<string, QueueConsumerSlot>();
  private rr = 0;
  private seq = 0;
  private dispatching = false;
  private again = false;
  /** Pending entries with an expiration, so the sweep can skip queues that have none. */
  private expiring = 0;
  deleted = false;
  /** Set when this queue pages (stored, over a store that reads messages back). */
  private readonly paging: QueuePager | undefined;
  /** Paged entries taken out of the list and being read back before they are dead-lettered. */
  private leaving = 0;

  inFlight = 0;
  enqueued = 0;
  dequeued = 0;
  expired = 0;
  deadLettered = 0;

  constructor(
    /** Store key: the canonical address, or a durable subscription's internal key. */
    readonly key: string,
    /** Canonical address for stats and logs (the topic pattern for a durable subscription). */
    readonly address: string,
    readonly policy: Readonly<DestinationPolicy>,
    /** Persistent messages are written to the store (false for temporary destinations). */
    readonly stored: boolean,
    private readonly ctx: CoreContext,
    /** Connection id owning a temporary queue. */
    readonly owner?: string,
  ) {
    this.memory = new MemoryMeter(policy.memoryLimit);
    const pager = stored ? ctx.pager : undefined;
    this.pending = new PriorityList(pager?.resident);
    this.paging =
      pager === undefined || ctx.writer === undefined ? undefined : new QueuePager(this, ctx, pager);
  }

  get depth(): number {
    return this.pending.length + this.inFlight + this.leaving;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  /**
   * Routes a new message in: store (if persistent) then dispatch. When this queue or the broker is over
   * its memory limit afterwards, the send being routed is told to wait (ctx.flow).
   */
  add(message: Message): void {
    const stored = this.stored && message.persistent && this.ctx.writer !== undefined;
    if (stored) this.ctx.writer!.add({ type: 'enqueue', queue: this.key, message });
    this.hold(message);
    const entry = new QueueEntry(message, this.seq++, 0, false, stored);
    const paging = stored ? this.paging : undefined;
    if (paging !== undefined) paging.written(entry.seq);
    this.offer(entry);
    if (paging !== undefined) {
      paging.flow();
      return;
    }
    const global = this.ctx.memory.gate;
    if (this.memory.gate.closed) this.ctx.flow.hit(this.memory.gate);
    if (global.closed) this.ctx.flow.hit(global);
  }

  /**
   * Re-creates a message read back from the store; dispatch happens once consumers arrive. With
   * `bodyBytes` the store returned it without its body (RecoveredMessage): it starts paged out.
   */
  recover(message: Message, deliveryCount: number, bodyBytes?: number): void {
    const entry = new QueueEntry(message, this.seq++, deliveryCount, true, true);
    if (bodyBytes !== undefined) {
      if (this.paging === undefined) {
        throw new BlazeError(
          'STORE',
          `the store recovered ${this.key} without bodies, but the core does not page`,
        );
      }
      this.paging.recoveredPaged(entry, bodyBytes);
    }
    this.enqueued++;
    this.hold(entry.message);
    this.pushPending(entry);
    this.paging?.recovered(entry);
  }

  private hold(message: Message): void {
    const bytes = messageBytes(message);
    this.memory.add(bytes);
    this.ctx.memory.add(bytes);
  }

  /** The entry left this queue (acked, expired, dead-lettered, dropped with the queue). */
  private release(e: QueueEntry): void {
    // A paged entry's stub counts its overhead only, as it was counted since it was paged out.
    const bytes = messageBytes(e.message);
    this.memory.sub(bytes);
    this.ctx.memory.sub(bytes);
    if (e.paged) this.paging?.left(e);
  }

  private offer(entry: QueueEntry): void {
    this.enqueued++;
    if (this.dispatching) {
      this.pushPending(entry);
      this.again = true;
      return;
    }
    this.dispatching = true;
    try {
      if (entry.message.expiration !== 0 && isExpired(entry.message, this.ctx.clock.now())) {
        this.expire(entry);
      } else if (this.pending.paged > 0) {
        // Older messages are paged out: the new one must not overtake them.
        this.pushPending(entry);
        this.again = true;
      } else {
        const c = this.pick(entry.message);
        if (c === undefined) this.pushPending(entry);
        else {
          this.inFlight++;
          c.deliver(entry);
        }
      }
      while (this.again) {
        this.again = false;
        this.pass();
      }
    } finally {
      this.dispatching = false;
    }
    if (this.pending.paged > 0) this.paging?.readAhead();
  }

  /** Something may have become deliverable: run passes until the invariant holds again. */
  requestDispatch(): void {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    if (this.pending.length === 0 || this.consumers.length === 0) return;
    this.dispatching = true;
    try {
      do {
        this.again = false;
        this.pass();
      } while (this.again);
    } finally {
      this.dispatching = false;
    }
    if (this.pending.paged > 0) this.paging?.readAhead();
  }

  private pass(): void {
    if (this.deleted || this.consumers.length === 0) return;
    let now = -1;
    let e = this.pending.first();
    while (e !== undefined) {
      const next = this.pending.after(e);
      const m = e.message;
      if (m.expiration !== 0) {
        if (now < 0) now = this.ctx.clock.now();
        if (isExpired(m, now)) {
          this.removePending(e);
          this.expire(e);
          e = next;
          continue;
        }
      }
      if (e.paged) {
        // Its body is on its way back (or will be): wait for it rather than deliver out of order.
        if (this.wanted(m)) {
          this.paging!.pageIn(e);
          return;
        }
        e = next;
        continue;
      }
      const c = this.pick(m);
      if (c !== undefined) {
        this.removePending(e);
        this.inFlight++;
        c.deliver(e);
        if (this.deleted) return;
      } else if (!this.anyCredit()) {
        return;
      }
      // A sink may have unlinked `next` re-entrantly (e.g. closed its connection): restart.
      e = next === undefined || next.linked ? next : this.pending.first();
    }
  }

  /**
   * Round robin over consumers with credit whose selector accepts the message. A grouped message
   * (JMSXGroupID) goes only to its group's owner; an unowned group is assigned to the chosen consumer.
   */
  private pick(m: Message): QueueConsumerSlot | undefined {
    const group = m.groupId;
    if (group !== undefined) {
      const owner = this.groupOwners.get(group);
      if (owner !== undefined) return owner.hasCredit() && owner.accepts(m) ? owner : undefined;
    }
    const cs = this.consumers;
    const n = cs.length;
    for (let i = 0; i < n; i++) {
      let idx = this.rr + i;
      if (idx >= n) idx -= n;
      const c = cs[idx]!;
      if (c.hasCredit() && c.accepts(m)) {
        this.rr = idx + 1 >= n ? 0 : idx + 1;
        if (group !== undefined) {
          this.groupOwners.set(group, c);
          c.groups.add(group);
        }
        return c;
      }
    }
    return undefined;
  }

  /** Would `pick` find a consumer for `m`? (Without assigning its group or moving the round robin.) */
  private wanted(m: Message): boolean {
    const group = m.groupId;
    if (group !== undefined) {
      const owner = this.groupOwners.get(group);
      if (owner !== undefined) return owner.hasCredit() && owner.accepts(m);
    }
    for (const c of this.consumers) if (c.hasCredit() && c.accepts(m)) return true;
    return false;
  }

  private anyCredit(): boolean {
    for (const c of this.consumers) if (c.hasCredit()) return true;
    return false;
  }

  private pushPending(e: QueueEntry): void {
    if (e.message.expiration !== 0) this.expiring++;
    this.pending.push(e);
  }

  private removePending(e: QueueEntry): void {
    if (e.message.expiration !== 0) this.expiring--;
    this.pending.remove(e);
  }

  addConsumer(c: QueueConsumerSlot): void {
    this.consumers.push(c);
    this.requestDispatch();
  }

  /** Detaches a consumer and releases its groups; the caller then returns its unacked entries. */
  removeConsumer(c: QueueConsumerSlot): void {
    const i = this.consumers.indexOf(c);
    if (i < 0) return;
    this.consumers.splice(i, 1);
    if (this.rr > i) this.rr--;
    if (this.rr >= this.consumers.length) this.rr = 0;
    for (const g of c.groups) if (this.groupOwners.get(g) === c) this.groupOwners.delete(g);
    c.groups.clear();
  }

  /** A delivered entry was acknowledged (or auto-acked on delivery). */
  settleAck(e: QueueEntry): void {
    this.inFlight--;
    this.dequeued++;
    this.release(e);
    if (e.stored && !this.deleted)
      this.ctx.writer!.add({ type: 'dequeue', queue: this.key, messageId: e.message.id });
  }

  /**
   * A delivered entry came back unacknowledged (nack, consumer closed, transaction rolled back). Its
   * delivery count was raised when it was delivered; past `maxRedeliveries` it is dead-lettered
   * (ActiveMQ RedeliveryPolicy.maximumRedeliveries: 6 means 7 deliveries in all).
   */
  settleReturn(e: QueueEntry): void {
    this.inFlight--;
    if (this.deleted) {
      this.release(e);
      return;
    }
    const max = this.policy.maxRedeliveries;
    if (max >= 0 && e.deliveryCount > max) {
      this.deadLetter(e, 'redelivery');
      return;
    }
    if (e.stored) {
      this.ctx.writer!.add({
        type: 'delivery-count',
        queue: this.key,
        messageId: e.message.id,
        deliveryCount: e.deliveryCount,
      });
    }
    this.returnToPending(e);
  }

  private expire(e: QueueEntry): void {
    this.expired++;
    if (this.policy.expiredMessages === 'dlq') this.deadLetter(e, 'expired');
    else this.drop(e);
  }

  private deadLetter(e: QueueEntry, reason: DeadLetterReason): void {
    if (e.paged) {
      this.deadLetterPaged(e, reason);
      return;
    }
    this.deadLettered++;
    this.drop(e);
    this.ctx.deadLetter(e.message, this.policy, reason);
  }

  /**
   * The DLQ copy needs the body: read it back first. The dequeue and the DLQ enqueue still happen in
   * one turn (one store batch). If the store cannot read it, the entry goes back to pending.
   */
  private deadLetterPaged(e: QueueEntry, reason: DeadLetterReason): void {
    this.leaving++;
    this.paging!.fetch([e], (ok) => {
      this.leaving--;
      if (this.deleted) {
        this.release(e);
        return;
      }
      if (!ok) {
        this.returnToPending(e);
        return;
      }
      if (e.paged) {
        // The store no longer has it: nothing to dead-letter.
        this.drop(e);
        return;
      }
      this.deadLettered++;
      this.drop(e);
      this.ctx.deadLetter(e.message, this.policy, reason);
    });
  }

  private returnToPending(e: QueueEntry): void {
    if (e.message.expiration !== 0) this.expiring++;
    this.pending.insertOrdered(e);
    this.requestDispatch();
  }

  /** PagingHost: a paged entry whose message the store no longer holds. */
  lost(e: QueueEntry): void {
    this.ctx.log.error(
      { queue: this.key, id: e.message.id },
      'paged-out message missing from the store; dropped',
    );
    this.removePending(e);
    this.drop(e);
  }

  private drop(e: QueueEntry): void {
    this.dequeued++;
    this.release(e);
    if (e.stored) this.ctx.writer!.add({ type: 'dequeue', queue: this.key, messageId: e.message.id });
  }

  /** Removes expired pending messages (periodic sweep; in-flight ones are checked on redelivery). */
  sweepExpired(now: number): void {
    if (this.expiring === 0 || this.deleted) return;
    const wasDispatching = this.dispatching;
    this.dispatching = true;
    try {
      for (const e of this.pending) {
        if (isExpired(e.message, now)) {
          this.removePending(e);
          this.expire(e);
        }
      }
    } finally {
      this.dispatching = wasDispatching;
    }
    if (!wasDispatching && this.again) this.requestDispatch();
  }

  // --- management (core/admin.ts) ------------------------------------------------------------------

  /**
   * Up to `max` pending entries in delivery order, unexpired, accepted by `accept`; nothing is taken
   * (JMS QueueBrowser sees the messages a consumer would get next, not those in flight). Paged-out
   * entries among them are paged in first, blocking (one store read for all of them): the caller gets
   * whole messages. Throws STORE when the store cannot read them.
   */
  browse(max: number, accept?: (m: Message) => boolean, now = this.ctx.clock.now()): QueueEntry[] {
    const out: QueueEntry[] = [];
    if (this.deleted) return out;
    for (const e of this.pending) {
      if (out.length >= max) break;
      if (isExpired(e.message, now)) continue;
      // Selectors see the stub's headers and properties, which are the message's.
      if (accept === undefined || accept(e.message)) out.push(e);
    }
    this.paging?.pageInSync(out);
    return out;
  }

  /** Timestamp of the pending message enqueued first; undefined when none is pending. */
  oldestPendingTimestamp(): number | undefined {
    return this.pending.oldest()?.message.timestamp;
  }

  /**
   * Removes the pending messages `which` selects (all when omitted) as consumed: counted dequeued and
   * dequeued from the store. In-flight messages stay with their consumers (ActiveMQ purge does the same).
   *
   * With `which` (an operator taking some messages, e.g. to move them) paged-out ones are returned
   * whole, read from the store before anything is removed (blocking; throws STORE, changing nothing, if
   * it cannot). Purging everything returns the paged-out ones as stubs (empty body): nobody reads them.
   */
  purge(which?: (m: Message) => boolean): Message[] {
    const taken: QueueEntry[] = [];
    for (const e of this.pending) if (which === undefined || which(e.message)) taken.push(e);
    const paged = which === undefined || this.paging === undefined ? [] : taken.filter((e) => e.paged);
    const bodies = paged.length === 0 ? undefined : this.paging!.readSync(paged);
    const removed: Message[] = [];
    let k = 0;
    for (const e of taken) {
      const whole = bodies !== undefined && e === paged[k] ? bodies[k++]! : e.message;
      this.removePending(e);
      this.drop(e);
      removed.push(whole);
    }
    return removed;
  }

  /** Drops everything (temporary queue deleted, durable subscription removed). No store ops here. */
  delete(): void {
    this.deleted = true;
    for (const e of this.pending) this.release(e);
    this.pending.clear();
    this.expiring = 0;
    this.groupOwners.clear();
  }

  stats(): QueueStats {
    return {
      address: this.address,
      depth: this.depth,
      memoryBytes: this.memory.used,
      blocked: this.memory.gate.closed,
      pending: this.pending.length,
      paged: this.pending.paged,
      inFlight: this.inFlight,
      enqueued: this.enqueued,
      dequeued: this.dequeued,
      expired: this.expired,
      deadLettered: this.deadLettered,
      consumers: this.consumers.length,
    };
  }
}
