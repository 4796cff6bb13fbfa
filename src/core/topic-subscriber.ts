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
import type { Message } from './message.js';
import type { DestinationPolicy, SlowConsumerPolicy } from './policy.js';
import type { SelectorPredicate } from './selector/index.js';
import { BaseSubscription, type SubscriptionOwner } from './subscription.js';
import type { Settler } from './transaction.js';

export interface Buffered {
  readonly message: Message;
  /** Deliveries so far (0 = never delivered). */
  readonly deliveryCount: number;
}

/** Receives messages published to matching topics; durable subscriptions implement it too. */
export interface TopicTarget {
  offer(message: Message): void;
}

/**
 * Slow-consumer policy: decides what happens when a full buffer receives one more message. Returns
 * how many messages were discarded. A 'block' strategy would instead signal producer flow control and
 * a 'conflate' strategy would replace a buffered message with the same key; both fit this shape.
 */
export interface OverflowStrategy {
  offer(buffer: Deque<Buffered>, item: Buffered, limit: number): number;
}

const dropOldest: OverflowStrategy = {
  offer(buffer, item, limit) {
    let dropped = 0;
    while (buffer.length >= limit) {
      buffer.shift();
      dropped++;
    }
    buffer.push(item);
    return dropped;
  },
};

const dropNewest: OverflowStrategy = {
  offer(buffer, item, limit) {
    if (buffer.length >= limit) return 1;
    buffer.push(item);
    return 0;
  },
};

export const OVERFLOW_STRATEGIES: Readonly<Record<SlowConsumerPolicy, OverflowStrategy>> = {
  'drop-oldest': dropOldest,
  'drop-newest': dropNewest,
};

export class TopicSubscriber extends BaseSubscription<Delivery> implements Settler<Delivery>, TopicTarget {
  private readonly buffer = new Deque<Buffered>();
  /** Nacked deliveries, redelivered before the buffer, in their original order. */
  private readonly retry = new Deque<Buffered>();
  private readonly overflow: OverflowStrategy;
  private draining = false;
  private again = false;
  dropped = 0;

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
    this.overflow = OVERFLOW_STRATEGIES[policy.slowConsumerPolicy];
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
    this.dropped += this.overflow.offer(
      this.buffer,
      { message, deliveryCount: 0 },
      this.policy.topicSubscriberBuffer,
    );
    if (this.draining) this.again = true;
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
          const next = this.retry.shift() ?? this.buffer.shift();
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
    if (this.buffer.length > 0) this.buffer.filter((b) => !isExpired(b.message, now));
    if (this.retry.length > 0) this.retry.filter((b) => !isExpired(b.message, now));
  }

  private deliver(message: Message, previous: number): void {
    const count = previous + 1;
    const tag = ++this.lastTag;
    const delivery: Delivery = { tag, message, redelivered: count > 1, deliveryCount: count };
    this.track(tag, delivery);
    this.emit(delivery);
  }

  protected detach(): void {
    this.buffer.clear();
    this.retry.clear();
    this.onDetach(this);
  }
}
