/**
 * Slow-consumer policies of topic subscriptions (policy.ts SlowConsumerPolicy): what happens to a
 * message that arrives while the subscription cannot take it (paused by its transport, or out of
 * credit). One strategy object per subscription, because conflation keeps per-subscription state.
 */
import type { Message, PropertyValue } from './message.js';
import type { DestinationPolicy } from './policy.js';

/** A buffered message. Mutable so that conflation can replace the message in place. */
export interface Buffered {
  message: Message;
  /** Deliveries so far (0 = never delivered). */
  readonly deliveryCount: number;
}

/** The subscription's buffer as a strategy sees it; accounting (bytes, counters) happens behind it. */
export interface OverflowBuffer {
  /** Messages waiting (new ones; nacked ones waiting for redelivery are not counted here). */
  readonly length: number;
  /** Would buffering one more message of `bytes` pass a limit (count, subscription or global memory)? */
  full(bytes: number): boolean;
  push(item: Buffered): void;
  /** Removes and forgets the oldest waiting message (counted as dropped). False when empty. */
  dropOldest(): boolean;
  /** Replaces the message of a waiting item (counted as conflated). */
  replace(item: Buffered, message: Message): void;
  /** Counts a message discarded without being buffered. */
  discard(): void;
  /** The producer of the message being routed must wait until this buffer drains. */
  block(): void;
}

export interface OverflowStrategy {
  offer(buffer: OverflowBuffer, message: Message, bytes: number): void;
  /** An item left the buffer (delivered, dropped, expired, subscription closed). */
  removed?(item: Buffered): void;
}

const dropOldest: OverflowStrategy = {
  offer(buffer, message, bytes) {
    while (buffer.full(bytes) && buffer.dropOldest()) {
      // evicted one
    }
    buffer.push({ message, deliveryCount: 0 });
  },
};

const dropNewest: OverflowStrategy = {
  offer(buffer, message, bytes) {
    if (buffer.full(bytes)) buffer.discard();
    else buffer.push({ message, deliveryCount: 0 });
  },
};

/** Nothing is lost: the message is kept beyond the limit and the producer waits (bounded by its window). */
const block: OverflowStrategy = {
  offer(buffer, message, bytes) {
    if (buffer.full(bytes)) buffer.block();
    buffer.push({ message, deliveryCount: 0 });
  },
};

/**
 * Latest value per key: a message whose key is already waiting replaces that message in its place
 * (the subscriber sees each key at most once per drain, with its newest value, and keys keep the order
 * in which they first became pending). Messages without a key queue up like drop-oldest.
 */
class Conflate implements OverflowStrategy {
  private readonly latest = new Map<PropertyValue, Buffered>();

  constructor(private readonly keyOf: (message: Message) => PropertyValue | undefined) {}

  offer(buffer: OverflowBuffer, message: Message, bytes: number): void {
    const key = this.keyOf(message);
    if (key !== undefined && key !== null) {
      const waiting = this.latest.get(key);
      if (waiting !== undefined) {
        buffer.replace(waiting, message);
        return;
      }
    }
    while (buffer.full(bytes) && buffer.dropOldest()) {
      // evicted one (its key is forgotten through `removed`)
    }
    const item: Buffered = { message, deliveryCount: 0 };
    buffer.push(item);
    if (key !== undefined && key !== null) this.latest.set(key, item);
  }

  removed(item: Buffered): void {
    const key = this.keyOf(item.message);
    if (key !== undefined && key !== null && this.latest.get(key) === item) this.latest.delete(key);
  }
}

export function createOverflowStrategy(policy: Readonly<DestinationPolicy>): OverflowStrategy {
  switch (policy.slowConsumerPolicy) {
    case 'drop-oldest':
      return dropOldest;
    case 'drop-newest':
      return dropNewest;
    case 'block':
      return block;
    case 'conflate': {
      const name = policy.conflationKey;
      return new Conflate(name === '' ? (m) => m.groupId : (m) => m.properties[name]);
    }
  }
}
