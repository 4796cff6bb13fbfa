/**
 * What queue consumers and topic subscribers share: delivery tags, the in-flight map behind prefetch,
 * ack modes, transactional acks, pause/resume and close.
 *
 * Credit: `individual`/`cumulative` subscriptions may hold `prefetch` unacknowledged deliveries.
 * `auto` subscriptions are acknowledged on hand-over, so prefetch instead bounds how many are handed
 * over per event-loop turn (api.ts); the budget refills on the next turn via Scheduler.defer, which
 * gives the transport a chance to pause() in between.
 */
import { BlazeError } from '../util/errors.js';
import type { Delivery, DeliverySink, SubscribeOptions, Subscription } from './api.js';
import type { CoreContext } from './context.js';
import { RESOLVED } from './store-writer.js';
import { TagWindow } from './tag-window.js';
import type { Settler, Transaction } from './transaction.js';

/** The connection side a subscription needs. */
export interface SubscriptionOwner {
  readonly id: string;
  /** Throws NOT_FOUND for an unknown transaction, CLOSED when the connection or core is closed. */
  transaction(txId: string): Transaction;
  checkOpen(): void;
  /** The subscription closed (by the client or by the core). */
  forget(sub: BaseSubscription<unknown>): void;
}

/**
 * Most tags the in-flight ring covers (core/tag-window.ts): twice the prefetch lets acks lag a full window
 * behind without leaving the ring; the cap bounds its memory for huge prefetches.
 */
const MAX_TAG_SPAN = 65_536;

export abstract class BaseSubscription<T> implements Subscription {
  protected readonly inflight: TagWindow<T>;
  protected lastTag = 0;
  protected paused = false;
  closed = false;
  protected readonly auto: boolean;
  private readonly cumulative: boolean;
  protected readonly prefetch: number;
  private turnUsed = 0;
  private turnScheduled = false;

  constructor(
    readonly id: string,
    readonly options: Readonly<SubscribeOptions>,
    protected readonly sink: DeliverySink,
    protected readonly owner: SubscriptionOwner,
    protected readonly ctx: CoreContext,
  ) {
    this.auto = options.ackMode === 'auto';
    this.cumulative = options.ackMode === 'cumulative';
    this.prefetch = options.prefetch;
    this.inflight = new TagWindow<T>(Math.min(2 * options.prefetch, MAX_TAG_SPAN));
  }

  /** Who finishes this subscription's in-flight items (the queue, or the subscriber itself). */
  protected abstract get settler(): Settler<T>;
  /** Credit may have grown: deliver more. */
  protected abstract pump(): void;
  /** Remove from routing (queue consumer list, topic index...). */
  protected abstract detach(): void;

  get inFlight(): number {
    return this.inflight.size;
  }

  hasCredit(): boolean {
    if (this.paused || this.closed) return false;
    return this.auto ? this.turnUsed < this.prefetch : this.inflight.size < this.prefetch;
  }

  ack(tag: number, txId?: string): Promise<void> {
    return this.settleDurably(tag, txId, false);
  }

  nack(tag: number, txId?: string): Promise<void> {
    return this.settleDurably(tag, txId, true);
  }

  /**
   * Settles, and answers with the store batch only when settling stored something (the ack of a
   * persistent message): the ack of a non-persistent one is done now even if other operations of the
   * turn (a producer's persistent sends) wait for a sync.
   */
  private settleDurably(tag: number, txId: string | undefined, nack: boolean): Promise<void> {
    const writer = txId === undefined ? this.ctx.writer : undefined;
    const before = writer === undefined ? 0 : writer.pending;
    this.settle(tag, txId, nack);
    return writer !== undefined && writer.pending > before ? writer.durable() : RESOLVED;
  }

  /**
   * Individual: exactly `tag`. Cumulative: `tag` and every earlier unsettled delivery (STOMP 1.2
   * "client" mode; NACK follows the same rule). The walk takes the oldest entry each time, so that
   * entries settled or added re-entrantly (by a sink, during `apply`) are seen as they are now.
   */
  private settle(tag: number, txId: string | undefined, nack: boolean): void {
    if (this.closed) throw new BlazeError('CLOSED', `subscription ${this.id} is closed`);
    this.owner.checkOpen();
    const tx = txId === undefined ? undefined : this.owner.transaction(txId);
    const first = this.inflight.get(tag);
    if (first === undefined) {
      throw new BlazeError('NOT_FOUND', `no unacknowledged delivery ${tag} on subscription ${this.id}`);
    }
    const settler = this.settler;
    if (this.cumulative) {
      const inflight = this.inflight;
      for (let t = inflight.oldest(); t !== undefined && t <= tag; t = inflight.oldest()) {
        this.apply(settler, inflight.delete(t)!, nack, tx);
      }
    } else {
      this.inflight.delete(tag);
      this.apply(settler, first, nack, tx);
    }
    this.pump();
  }

  private apply(settler: Settler<T>, item: T, nack: boolean, tx: Transaction | undefined): void {
    if (tx !== undefined) tx.settle(settler, item, nack);
    else if (nack) settler.settleReturn(item);
    else settler.settleAck(item);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.closed) this.pump();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    const settler = this.settler;
    for (const item of this.inflight.takeAll()) settler.settleReturn(item);
    this.owner.forget(this as BaseSubscription<unknown>);
  }

  /** The core ends the subscription (its destination was deleted...). */
  closeByCore(reason: string): void {
    if (this.closed) return;
    this.close();
    try {
      this.sink.closed?.(this, reason);
    } catch (err) {
      this.ctx.log.warn({ err, subscription: this.id }, 'sink.closed threw');
    }
  }

  /** Records a delivery's credit use; for auto ack, schedules the next turn's refill. */
  protected track(tag: number, item: T): void {
    if (!this.auto) {
      this.inflight.add(tag, item);
      return;
    }
    if (++this.turnUsed >= this.prefetch && !this.turnScheduled) {
      this.turnScheduled = true;
      this.ctx.scheduler.defer(() => {
        this.turnScheduled = false;
        this.turnUsed = 0;
        if (!this.closed) this.pump();
      });
    }
  }

  protected emit(delivery: Delivery): void {
    try {
      this.sink.deliver(this, delivery);
    } catch (err) {
      // A faulty sink must not corrupt dispatch; the delivery stays in flight until acked or closed.
      this.ctx.log.warn({ err, subscription: this.id }, 'sink.deliver threw');
    }
  }
}
