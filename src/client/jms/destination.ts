/**
 * JMS destinations over the broker's address space: a Queue named `orders` is `queue://orders`, a Topic
 * `prices.eur` is `topic://prices.eur` (docs/ARCHITECTURE.md). A name that already carries a scheme is
 * taken as the address.
 */
export type DestinationKind = 'queue' | 'topic';

export abstract class Destination {
  abstract readonly kind: DestinationKind;
  protected constructor(readonly address: string) {}
  toString(): string {
    return this.address;
  }
  /** The destination a received address names (JMSDestination, JMSReplyTo). */
  static fromAddress(address: string): Destination {
    if (address.startsWith('temp-queue://')) return new TemporaryQueue(address);
    if (address.startsWith('temp-topic://')) return new TemporaryTopic(address);
    if (address.startsWith('topic://')) return new Topic(address);
    return new Queue(address);
  }
}

const withScheme = (scheme: string, name: string) => (name.includes('://') ? name : `${scheme}://${name}`);
const nameOf = (address: string) => address.replace(/^[a-z-]+:\/\//, '');

export class Queue extends Destination {
  readonly kind = 'queue' as const;
  constructor(name: string) {
    super(withScheme('queue', name));
  }
  getQueueName(): string {
    return nameOf(this.address);
  }
}

export class Topic extends Destination {
  readonly kind = 'topic' as const;
  constructor(name: string) {
    super(withScheme('topic', name));
  }
  getTopicName(): string {
    return nameOf(this.address);
  }
}

/** Lives as long as the connection that created it. */
export class TemporaryQueue extends Queue {
  /** The broker deletes it with its connection; there is no separate delete frame. */
  delete(): Promise<void> {
    return Promise.resolve();
  }
}

export class TemporaryTopic extends Topic {
  delete(): Promise<void> {
    return Promise.resolve();
  }
}
