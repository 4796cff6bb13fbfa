/**
 * One MQTT subscription of a session: the core subscription it maps to and the MQTT options it was
 * granted. It is the core's DeliverySink; deliveries go straight to the session's PUBLISH hot path.
 */
import type { Delivery, DeliverySink, Subscription } from '../../core/api.js';
import type { SubscriptionRecord } from './state.js';
import { type ParsedFilter, startsWithWildcard } from './topics.js';

export interface DeliveryTarget {
  deliverMessage(sub: MqttSubscription, delivery: Delivery): void;
  subscriptionEnded(sub: MqttSubscription, reason: string): void;
}

const DOLLAR = 36;
const TOPIC_PREFIX_LENGTH = 'topic://'.length;

export class MqttSubscription implements DeliverySink {
  /** Set right after `core.subscribe` returns (deliveries may arrive from inside it). */
  core: Subscription | null = null;
  /** Acked by us (QoS 1/2 granted), rather than by the core on hand-over. */
  readonly explicit: boolean;
  /** [MQTT-4.7.2-1]: a filter starting with a wildcard does not match `$` topics. */
  private readonly dollarGuard: boolean;
  readonly subscriptionIds: readonly number[] | undefined;

  constructor(
    private readonly target: DeliveryTarget,
    readonly record: SubscriptionRecord,
    readonly parsed: ParsedFilter,
    /** Core durable subscription name, when the session is persistent. */
    readonly durableName: string | undefined,
  ) {
    this.explicit = record.qos > 0;
    this.dollarGuard = startsWithWildcard(parsed.filter);
    this.subscriptionIds = record.subscriptionId === undefined ? undefined : [record.subscriptionId];
  }

  /** [MQTT-4.7.2-1]: whether `address` is a `$` topic this subscription's filter must not match. */
  excludes(address: string): boolean {
    return this.dollarGuard && address.charCodeAt(TOPIC_PREFIX_LENGTH) === DOLLAR;
  }

  deliver(subscription: Subscription, delivery: Delivery): void {
    if (this.excludes(delivery.message.address)) {
      if (this.explicit) subscription.ack(delivery.tag);
      return;
    }
    this.target.deliverMessage(this, delivery);
  }

  closed(_subscription: Subscription, reason: string): void {
    this.target.subscriptionEnded(this, reason);
  }
}
