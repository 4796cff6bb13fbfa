/**
 * Shared topic subscriptions (MQTT 5 `$share/<group>/<filter>`, JMS 2 shared consumers): every
 * subscription of one group on one pattern is a consumer of one internal queue that receives the
 * pattern's messages, so each message goes to exactly one member, round robin over those with credit,
 * and an unacknowledged message of a member that leaves is redelivered to another member. Acks,
 * prefetch, redelivery and the DLQ are the queue machinery.
 *
 * The group is not durable: it exists while it has members and is deleted (with what it holds) when the
 * last one leaves; its queue is not stored, so it loses its messages on restart.
 */
import type { Address } from './address.js';
import type { DeliverySink, SubscribeOptions, Subscription } from './api.js';
import type { Broker } from './broker.js';
import type { Message } from './message.js';
import { Queue } from './queue.js';
import { QueueConsumer } from './queue-consumer.js';
import type { SelectorPredicate } from './selector/index.js';
import type { SubscriptionOwner } from './subscription.js';
import type { TopicTarget } from './topic-subscriber.js';

export function sharedKey(group: string, address: Address): string {
  return `shared://${encodeURIComponent(group)}/${address.canonical}`;
}

export class SharedSubscription implements TopicTarget {
  constructor(
    readonly key: string,
    readonly address: Address,
    readonly queue: Queue,
  ) {}

  offer(message: Message): void {
    this.queue.add(message);
  }
}

/**
 * Adds a member to the group `options.shareGroup` on `address` (a topic pattern, already authorized),
 * creating the group on first use. The caller registers the returned consumer with its connection.
 */
export function subscribeShared(
  broker: Broker,
  owner: SubscriptionOwner,
  id: string,
  options: Readonly<SubscribeOptions>,
  sink: DeliverySink,
  address: Address,
  selector: SelectorPredicate | undefined,
): Subscription & QueueConsumer {
  const groups = broker.sharedGroups;
  const key = sharedKey(options.shareGroup!, address);
  let shared = groups.get(key);
  if (shared === undefined) {
    const queue = new Queue(key, address.canonical, broker.policyOf('topic', address.name), false, broker);
    shared = new SharedSubscription(key, address, queue);
    groups.set(key, shared);
    broker.topicIndex.add(address.name, shared);
  }
  const group = shared;
  const consumer = new QueueConsumer(id, options, sink, owner, broker, group.queue, selector, () => {
    if (group.queue.consumers.length > 0 || groups.get(key) !== group) return;
    groups.delete(key);
    broker.topicIndex.remove(address.name, group);
    group.queue.delete();
  });
  group.queue.addConsumer(consumer);
  return consumer;
}
