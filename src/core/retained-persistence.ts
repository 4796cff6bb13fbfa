/**
 * Retained messages in the MessageStore: one stored queue per retained topic, key `retained://<topic>`
 * (the topic in core terms, `.` levels), holding at most one message. A new retained message is an
 * `enqueue` of it and a `dequeue` of the one it replaces, in the same batch, so a crash leaves the old
 * or the new message, never both or neither; clearing is a `dequeue`.
 *
 * Why stored queues rather than key/value records: a retained message is a Message, and the store
 * already encodes messages (bodies, properties) and carries them through compaction; the core only has
 * to recognise the key prefix when it recovers (core/protocol-state.ts `recoverQueue`).
 */
import type { Message } from './message.js';
import type { RetainedOp, RetainedPersistence } from './retained.js';
import type { RecoveredQueue } from './store.js';
import type { StoreWriter } from './store-writer.js';

export const RETAINED_QUEUE_PREFIX = 'retained://';

export function retainedQueueKey(topic: string): string {
  return RETAINED_QUEUE_PREFIX + topic;
}

export class StoreRetainedPersistence implements RetainedPersistence {
  /** Stored message id per topic: what the next change must dequeue. */
  private readonly ids = new Map<string, string>();

  constructor(private readonly writer: StoreWriter) {}

  write(op: RetainedOp): void {
    const queue = retainedQueueKey(op.topic);
    const old = this.ids.get(op.topic);
    if (op.type === 'retain') {
      this.writer.add({ type: 'enqueue', queue, message: op.message });
      // Ids are unique per process only: after a restart a new message may reuse the stored one's id,
      // and then the enqueue has already replaced it (stores keep one message per id and queue).
      if (old !== undefined && old !== op.message.id)
        this.writer.add({ type: 'dequeue', queue, messageId: old });
      this.ids.set(op.topic, op.message.id);
    } else if (old !== undefined) {
      this.writer.add({ type: 'dequeue', queue, messageId: old });
      this.ids.delete(op.topic);
    }
  }

  flushed(): Promise<void> {
    return this.writer.flushed();
  }

  /**
   * A stored retained queue read back at start-up: returns its message, the last one enqueued. More than
   * one can only be left by a fault; the older ones are removed.
   */
  recover(rq: RecoveredQueue): { topic: string; message: Message } | undefined {
    const topic = rq.queue.slice(RETAINED_QUEUE_PREFIX.length);
    const last = rq.messages.at(-1)?.message;
    if (last === undefined) return undefined;
    for (const m of rq.messages) {
      if (m.message !== last) this.writer.add({ type: 'dequeue', queue: rq.queue, messageId: m.message.id });
    }
    this.ids.set(topic, last.id);
    return { topic, message: last };
  }

  /** The store holds a message the RetainedStore refused at restore (its topic limit): drop it. */
  forget(topic: string): void {
    const old = this.ids.get(topic);
    if (old === undefined) return;
    this.writer.add({ type: 'dequeue', queue: retainedQueueKey(topic), messageId: old });
    this.ids.delete(topic);
  }
}
