/**
 * The subscriptions of one STOMP connection, and the per-subscription state a MESSAGE/ACK needs.
 */
import type { AckMode, Delivery, DeliverySink, Subscription } from '../../core/api.js';

/** What a subscription needs from its session: the MESSAGE hot path and the core's "ended" notice. */
export interface DeliveryTarget {
  deliverMessage(sub: StompSubscription, delivery: Delivery): void;
  subscriptionEnded(sub: StompSubscription, reason: string): void;
}

export class StompSubscription implements DeliverySink {
  /** Set right after `core.subscribe` returns (deliveries may arrive before that, from inside it). */
  core: Subscription | null = null;
  /**
   * Unacked deliveries of an explicit-ack subscription, tag -> message id, in delivery (= tag) order,
   * which is what a cumulative ACK walks.
   */
  readonly unacked = new Map<number, string>();
  /** message id -> tag, for 1.0/1.1 ACKs that name a message rather than a delivery. */
  readonly tagsByMessageId: Map<string, number> | null;

  constructor(
    private readonly target: DeliveryTarget,
    /** The client's `id` (1.0: the destination when absent). */
    readonly id: string,
    /** Ours, small and unique on the connection; part of 1.2 ack ids. */
    readonly index: number,
    readonly ackMode: AckMode,
    /** `MESSAGE\nsubscription:<escaped id>\n`. */
    readonly headPrefix: string,
    /** Durable subscription name, if any. */
    readonly durableName: string | undefined,
    byMessageId: boolean,
  ) {
    this.tagsByMessageId = byMessageId && ackMode !== 'auto' ? new Map() : null;
  }

  deliver(_subscription: Subscription, delivery: Delivery): void {
    this.target.deliverMessage(this, delivery);
  }

  closed(_subscription: Subscription, reason: string): void {
    this.target.subscriptionEnded(this, reason);
  }

  /** Remembers an explicit-ack delivery until it is acked or nacked. */
  track(delivery: Delivery): void {
    this.unacked.set(delivery.tag, delivery.message.id);
    this.tagsByMessageId?.set(delivery.message.id, delivery.tag);
  }

  /** Forgets `tag`, and for cumulative mode every earlier tag (1.2 "SUBSCRIBE ack Header", `client`). */
  settle(tag: number, cumulative: boolean): void {
    if (!cumulative) {
      this.forget(tag, this.unacked.get(tag));
      return;
    }
    for (const [t, id] of this.unacked) {
      if (t > tag) break;
      this.forget(t, id);
    }
  }

  private forget(tag: number, messageId: string | undefined): void {
    this.unacked.delete(tag);
    if (messageId !== undefined && this.tagsByMessageId?.get(messageId) === tag)
      this.tagsByMessageId.delete(messageId);
  }
}

export class SubscriptionRegistry {
  private readonly byId = new Map<string, StompSubscription>();
  private readonly byIndex = new Map<number, StompSubscription>();
  private nextIndex = 1;

  get size(): number {
    return this.byId.size;
  }

  allocateIndex(): number {
    return this.nextIndex++;
  }

  get(id: string): StompSubscription | undefined {
    return this.byId.get(id);
  }

  byAckIndex(index: number): StompSubscription | undefined {
    return this.byIndex.get(index);
  }

  add(sub: StompSubscription): void {
    this.byId.set(sub.id, sub);
    this.byIndex.set(sub.index, sub);
  }

  remove(sub: StompSubscription): void {
    if (this.byId.get(sub.id) === sub) this.byId.delete(sub.id);
    this.byIndex.delete(sub.index);
  }

  values(): IterableIterator<StompSubscription> {
    return this.byId.values();
  }

  clear(): void {
    this.byId.clear();
    this.byIndex.clear();
  }
}
