/**
 * The subscriptions of one STOMP connection, and the per-subscription state a MESSAGE/ACK needs.
 */
import type { AckMode, Delivery, DeliverySink, Subscription } from '../../core/api.js';
import type { MessageTarget } from './message-out.js';

/** What a subscription needs from its session: the MESSAGE hot path and the core's "ended" notice. */
export interface DeliveryTarget {
  deliverMessage(sub: StompSubscription, delivery: Delivery): void;
  subscriptionEnded(sub: StompSubscription, reason: string): void;
}

export class StompSubscription implements DeliverySink, MessageTarget {
  /** Set right after `core.subscribe` returns (deliveries may arrive before that, from inside it). */
  core: Subscription | null = null;
  /**
   * Unacked deliveries of an explicit-ack subscription, tag -> message id, in delivery (= tag) order,
   * which is what a cumulative ACK walks.
   */
  readonly unacked = new Map<number, string>();
  /** message id -> tag, for 1.0/1.1 ACKs that name a message rather than a delivery. */
  readonly tagsByMessageId: Map<string, number> | null;
  /** `index` when MESSAGE frames carry a 1.2 `ack` header, else -1. */
  readonly ackIndex: number;
  /** `MESSAGE\nsubscription:<escaped id>\nmessage-id:`, encoded once. */
  readonly headBytes: Uint8Array;
  /** The last address delivered and its `destinationLine` (a queue's is always the same). */
  lastAddress = '';
  lastDestinationLine: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly target: DeliveryTarget,
    /** The client's `id` (1.0: the destination when absent). */
    readonly id: string,
    /** Ours, small and unique on the connection; part of 1.2 ack ids. */
    readonly index: number,
    readonly ackMode: AckMode,
    /** `MESSAGE\nsubscription:<escaped id>\nmessage-id:`. */
    headPrefix: string,
    /** Durable subscription name, if any. */
    readonly durableName: string | undefined,
    /** 1.0/1.1: ACKs name message ids; 1.2: they echo the MESSAGE's `ack` header. */
    byMessageId: boolean,
  ) {
    this.tagsByMessageId = byMessageId && ackMode !== 'auto' ? new Map() : null;
    this.ackIndex = !byMessageId && ackMode !== 'auto' ? index : -1;
    this.headBytes = new Uint8Array(Buffer.from(headPrefix, 'utf8'));
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
      if (this.tagsByMessageId === null) this.unacked.delete(tag);
      else this.forget(tag, this.unacked.get(tag));
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
