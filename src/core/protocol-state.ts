/**
 * State the core keeps for protocols besides queues and topics, durable through the core's store when it
 * has one: retained messages (core/retained.ts, stored as `retained://` queues) and key/value namespaces
 * (core/kv.ts, MQTT session state). The core recovers both from the store before any connection exists.
 */

import type { Logger } from '../util/logger.js';
import { type KeyValueNamespace, KeyValueRegistry } from './kv.js';
import { RetainedStore } from './retained.js';
import { RETAINED_QUEUE_PREFIX, StoreRetainedPersistence } from './retained-persistence.js';
import type { Clock } from './scheduler.js';
import type { KvEntry, RecoveredQueue } from './store.js';
import type { StoreWriter } from './store-writer.js';

export interface ProtocolStateOptions {
  clock: Clock;
  log: Logger;
  /** Retained topics at most (core/retained.ts DEFAULT_MAX_RETAINED when omitted). */
  maxRetained?: number;
}

export class ProtocolState {
  readonly retained: RetainedStore;
  private readonly retainedPersistence: StoreRetainedPersistence | undefined;
  private readonly kvs: KeyValueRegistry;

  constructor(
    writer: StoreWriter | undefined,
    private readonly o: ProtocolStateOptions,
  ) {
    this.retainedPersistence = writer === undefined ? undefined : new StoreRetainedPersistence(writer);
    this.retained = new RetainedStore({
      clock: o.clock,
      ...(o.maxRetained === undefined ? {} : { maxTopics: o.maxRetained }),
      ...(this.retainedPersistence === undefined ? {} : { persistence: this.retainedPersistence }),
    });
    this.kvs = new KeyValueRegistry(writer);
  }

  /** Takes a recovered queue that belongs here (a retained message); false for the core's own queues. */
  recoverQueue(rq: RecoveredQueue): boolean {
    if (!rq.queue.startsWith(RETAINED_QUEUE_PREFIX)) return false;
    const p = this.retainedPersistence;
    const entry = p?.recover(rq);
    if (entry === undefined) return true;
    for (const topic of this.retained.restore([entry])) {
      this.o.log.warn({ topic }, 'retained message dropped at recovery: retained store full');
      p?.forget(topic);
    }
    return true;
  }

  recoverKv(entries: readonly KvEntry[]): void {
    this.kvs.recover(entries);
  }

  kv(namespace: string): KeyValueNamespace {
    return this.kvs.namespace(namespace);
  }
}
