/**
 * A non-durable topic subscription: it only sees messages published while it exists (JMS). Messages
 * are handed straight to the sink while it has credit; otherwise they wait in a bounded buffer, and
 * when that is full the slow-consumer policy decides what is lost. Unacknowledged deliveries are
 * redelivered to the same subscription on nack and discarded when it closes (nothing else could take
 * them).
 */
import type { Delivery, DeliverySink, SubscribeOptions } from './api.js';
import type { CoreContext } from './context.js';
import { isExpired } from './context.js';
import { Deque } from './deque.js';
import { FlowGate, MemoryMeter, messageBytes, RESUME_RATIO } from './memory.js';
import type { Message } from './message.js';
import {
  type Buffered,
  createOverflowStrategy,
  type OverflowBuffer,
  type OverflowStrategy,
} from './overflow.js';
import type { DestinationPolicy } from './policy.js';
import type { SelectorPredicate } from './selector/index.js';
import { BaseSubscription, type SubscriptionOwner } from './subscription.js';
import type { Settler } from './transaction.js';

export type { Buffered } from './overflow.js';

/** Receives messages published to matching topics; durable subscriptions implement it too. */
export interface TopicTarget {
  offer(message: Message): void;
}

export class TopicSubscriber
  extends BaseSubscription<Delivery>
  implements Settler<Delivery>, TopicTarget, OverflowBuffer
{
  private readonly buffer = new Deque<Buffered>();
  /** Nacked deliveries, redelivered before the buffer, in their original order. */
  private readonly retry = new Deque<Buffered>();
  private readonly overflow: OverflowStrategy;
  /** Bytes buffered (buffer + retry) against `policy.memoryLimit`. */
  readonly memory: MemoryMeter;
  /** Where producers wait under the 'block' policy. */
  private readonly blockGate = new FlowGate();
  private readonly resumeCount: number;
  private draining = false;
  private again = false;
  /** Messages lost to the slow-consumer policy (evicted or discarded). */
  dropped = 0;
  /** Buffered messages replaced by a newer one with the same key ('conflate'). */
  conflated = 0;

  constructor(
    id: string,
    options: Readonly<SubscribeOptions>,
    sink: DeliverySink,
    owner: SubscriptionOwner,
    ctx: CoreContext,
    private readonly policy: Readonly<DestinationPolicy>,
    private readonly selector: SelectorPredicate | undefined,
    private readonly onDetach: (sub: TopicSubscriber) => void,
  ) {
    super(id, options, sink, owner, ctx);
    this.overflow = createOverflowStrategy(policy);
    this.memory = new MemoryMeter(policy.memoryLimit);
    this.resumeCount = Math.floor(policy.topicSubscriberBuffer * RESUME_RATIO);
  }

  get length(): number {
    return this.buffer.length;
  }

  /** True while producers wait for this subscriber ('block' policy). */
  get blocking(): boolean {
    return this.blockGate.closed;
  }

  get buffered(): number {
    return this.buffer.length + this.retry.length;
  }

  protected get settler(): Settler<Delivery> {
    return this;
  }

  offer(message: Message): void {
    if (this.closed) return;
    if (this.options.noLocal === true && message.producerConnectionId === this.owner.id) return;
    if (this.selector !== undefined && !this.selector(message)) return;
    if (!this.draining && this.buffered === 0 && this.hasCredit()) {
      this.deliver(message, 0);
      return;
    }
    this.overflow.offer(this, message, messageBytes(message));
    if (this.draining) this.again = true;
  }

  // --- OverflowBuffer (for the slow-consumer strategy) ---

  full(bytes: number): boolean {
    const global = this.ctx.memory;
    return (
      this.buffer.length >= this.policy.topicSubscriberBuffer ||
      this.memory.wouldExceed(bytes) ||
      global.over ||
      global.wouldExceed(bytes)
    );
  }

  push(item: Buffered): void {
    this.hold(item.message);
    this.buffer.push(item);
  }

  dropOldest(): boolean {
    const item = this.buffer.shift();
    if (item === undefined) return false;
    this.forget(item);
    this.dropped++;
    return true;
  }

  replace(item: Buffered, message: Message): void {
    this.release(item.message);
    this.hold(message);
    item.message = message;
    this.conflated++;
  }

  discard(): void {
    this.dropped++;
  }

  block(): void {
    const global = this.ctx.memory.gate;
    if (global.closed) this.ctx.flow.hit(global);
    else {
      this.blockGate.close();
      this.ctx.flow.hit(this.blockGate);
    }
  }

  private hold(message: Message): void {
    const bytes = messageBytes(message);
    this.memory.add(bytes);
    this.ctx.memory.add(bytes);
  }

  private release(message: Message): void {
    const bytes = messageBytes(message);
    this.memory.sub(bytes);
    this.ctx.memory.sub(bytes);
  }

  /** An item left the buffer: memory, conflation key. */
  private forget(item: Buffered): void {
    this.release(item.message);
    this.overflow.removed?.(item);
  }

  /** Next item to deliver (redeliveries first), removed from the buffer. */
  private take(): Buffered | undefined {
    const item = this.retry.shift() ?? this.buffer.shift();
    if (item === undefined) return undefined;
    this.forget(item);
    // 'block': producers go on once the buffer has room again (with hysteresis, see memory.ts).
    if (this.blockGate.closed) this.unblockIfDrained();
    return item;
  }

  settleAck(_delivery: Delivery): void {
    // Nothing is stored for non-durable subscriptions.
  }

  settleReturn(delivery: Delivery): void {
    if (this.closed) return;
    const max = this.policy.maxRedeliveries;
    if (max >= 0 && delivery.deliveryCount > max) {
      this.ctx.deadLetter(delivery.message, this.policy, 'redelivery');
      return;
    }
    this.hold(delivery.message);
    this.retry.push({ message: delivery.message, deliveryCount: delivery.deliveryCount });
    this.pump();
  }

  protected pump(): void {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.again = false;
        let now = -1;
        while (this.hasCredit()) {
          const next = this.take();
          if (next === undefined) break;
          if (next.message.expiration !== 0) {
            if (now < 0) now = this.ctx.clock.now();
            if (isExpired(next.message, now)) continue;
          }
          this.deliver(next.message, next.deliveryCount);
        }
      } while (this.again);
    } finally {
      this.draining = false;
    }
  }

  /** Drops expired buffered messages (periodic sweep). */
  sweepExpired(now: number): void {
    const keep = (b: Buffered) => {
      if (!isExpired(b.message, now)) return true;
      this.forget(b);
      return false;
    };
    if (this.buffer.length > 0) this.buffer.filter(keep);
    if (this.retry.length > 0) this.retry.filter(keep);
    this.unblockIfDrained();
  }

  private unblockIfDrained(): void {
    const gate = this.blockGate;
    if (
      gate.closed &&
      this.buffer.length <= this.resumeCount &&
      (this.memory.limit === 0 || this.memory.used <= this.memory.resumeAt)
    ) {
      gate.open();
    }
  }

  private deliver(message: Message, previous: number): void {
    const count = previous + 1;
    const tag = ++this.lastTag;
    const delivery: Delivery = { tag, message, redelivered: count > 1, deliveryCount: count };
    this.track(tag, delivery);
    this.emit(delivery);
  }

  protected detach(): void {
    for (const item of this.buffer) this.forget(item);
    for (const item of this.retry) this.forget(item);
    this.buffer.clear();
    this.retry.clear();
    // A blocked producer must not wait for a subscriber that is gone.
    this.blockGate.open();
    this.onDetach(this);
  }
}
