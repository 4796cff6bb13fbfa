/**
 * A durable topic subscription (JMS clientId + subscription name): an internal queue that receives the
 * matching messages of its topic pattern whether or not a subscriber is attached, so acks, prefetch,
 * redelivery and the DLQ are exactly the queue machinery. At most one subscriber is attached at a time.
 * The selector and noLocal are applied when a message is routed in, so nothing unwanted is stored.
 */
import type { Message } from './message.js';
import type { Queue } from './queue.js';
import type { QueueConsumer } from './queue-consumer.js';
import type { SelectorPredicate } from './selector/index.js';
import type { DurableRecord } from './store.js';
import type { TopicTarget } from './topic-subscriber.js';

export function durableKey(clientId: string, name: string): string {
  return `durable://${encodeURIComponent(clientId)}/${encodeURIComponent(name)}`;
}

export class DurableSubscription implements TopicTarget {
  active: QueueConsumer | undefined;
  /** Connection of the attached subscriber, for noLocal. */
  private activeConnection: string | undefined;

  constructor(
    readonly record: DurableRecord,
    readonly queue: Queue,
    private readonly selector: SelectorPredicate | undefined,
  ) {}

  offer(message: Message): void {
    if (this.record.noLocal && message.producerConnectionId === this.activeConnection) return;
    if (this.selector !== undefined && !this.selector(message)) return;
    this.queue.add(message);
  }

  attach(consumer: QueueConsumer, connectionId: string): void {
    this.active = consumer;
    this.activeConnection = connectionId;
  }

  detach(): void {
    this.active = undefined;
    this.activeConnection = undefined;
  }

  /** Same definition: re-subscribing resumes; a different one recreates the subscription (JMS). */
  sameDefinition(address: string, selector: string | undefined, noLocal: boolean): boolean {
    return (
      this.record.address === address && this.record.selector === selector && this.record.noLocal === noLocal
    );
  }
}
