/**
 * What queues and subscriptions need from the broker, as an interface so that they do not import it
 * (and so tests could drive them alone).
 */
import type { Logger } from '../util/logger.js';
import type { FlowCollector, MemoryMeter } from './memory.js';
import type { Message } from './message.js';
import type { Pager } from './paging.js';
import type { DestinationPolicy } from './policy.js';
import type { Clock, Scheduler } from './scheduler.js';
import type { StoreWriter } from './store-writer.js';

export type DeadLetterReason = 'expired' | 'redelivery';

export interface CoreContext {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** Undefined when the core runs without a store: nothing is persisted. */
  readonly writer: StoreWriter | undefined;
  readonly log: Logger;
  /** Bytes held by all queues and topic buffers together, against the global memory limit. */
  readonly memory: MemoryMeter;
  /** Gates hit by the send being routed; a holder over its limit reports its gate here. */
  readonly flow: FlowCollector;
  /** Set when persistent messages page out of memory (core/paging.ts); stored queues page through it. */
  readonly pager: Pager | undefined;
  /**
   * Sends a copy of `message` to its dead-letter queue under `policy`, or drops it when dead-lettering
   * does not apply (already on a DLQ, temporary destination, non-persistent and not configured...).
   * The caller has already removed the original from its own queue (and store).
   */
  deadLetter(message: Message, policy: Readonly<DestinationPolicy>, reason: DeadLetterReason): void;
}

export function isExpired(message: Message, now: number): boolean {
  return message.expiration !== 0 && message.expiration <= now;
}
