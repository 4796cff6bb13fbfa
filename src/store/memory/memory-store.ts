/**
 * A MessageStore that keeps its state in memory. A core restarted on the same instance recovers
 * exactly what a durable store would have (so recovery logic is testable without disk), and tests can
 * hold writes back (`hold`/`release`) or make them fail (`failNext`) to observe durability waits.
 * Nothing survives the process: do not use where persistence is promised.
 *
 * Paging: with `{ paging: true }` the store also reads messages back (`read`/`readSync`), so that a core
 * over it pages bodies out as it would over the journal. The bodies stay here, so nothing is saved: it
 * exists to test the core's paging. Off by default, so a core over a memory store keeps today's flow
 * control (producers wait at the memory limit).
 */

import type { Message } from '../../core/message.js';
import type {
  DurableRecord,
  KvEntry,
  MessageStore,
  PreparedBranch,
  RecoveredQueue,
  RecoveredState,
  StoreOp,
} from '../../core/store.js';
import { xidKey } from '../../core/store.js';

interface Stored {
  message: Message;
  deliveryCount: number;
}

interface PendingWrite {
  ops: readonly StoreOp[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface MemoryStoreOptions {
  /** Offer `read`/`readSync` (the core then pages messages out). Default false. */
  paging?: boolean;
}

export class MemoryStore implements MessageStore {
  /** Queue key -> message id -> stored message; Maps keep enqueue order. */
  private readonly queues = new Map<string, Map<string, Stored>>();
  private readonly durables = new Map<string, DurableRecord>();
  /** Namespace -> key -> value. */
  private readonly kv = new Map<string, Map<string, Uint8Array>>();
  /** Prepared XA branches by xid key (core/xa.ts), in prepare order. */
  private readonly prepared = new Map<string, PreparedBranch>();
  private held: PendingWrite[] | undefined;
  private failure: unknown;
  /** Number of write() calls (batches) applied; lets tests check batching. */
  writes = 0;
  /** Operations applied, by type. */
  readonly opCounts: Record<StoreOp['type'], number> = {
    enqueue: 0,
    dequeue: 0,
    'delivery-count': 0,
    'durable-add': 0,
    'durable-remove': 0,
    'kv-put': 0,
    'kv-delete': 0,
    'xa-prepare': 0,
    'xa-forget': 0,
  };

  readonly read?: (queue: string, ids: readonly string[]) => Promise<(Message | undefined)[]>;
  readonly readSync?: (queue: string, ids: readonly string[]) => (Message | undefined)[];
  /** Messages handed out by the reads (tests check that paging really read them back). */
  messagesRead = 0;

  constructor(options: MemoryStoreOptions = {}) {
    if (options.paging === true) {
      this.readSync = (queue, ids) => this.lookup(queue, ids);
      this.read = async (queue, ids) => this.lookup(queue, ids);
    }
  }

  /** Copies, as a store that decodes them would return: the core must not rely on identity. */
  private lookup(queue: string, ids: readonly string[]): (Message | undefined)[] {
    const q = this.queues.get(queue);
    return ids.map((id) => {
      const s = q?.get(id);
      if (s === undefined) return undefined;
      this.messagesRead++;
      return { ...s.message };
    });
  }

  async load(): Promise<RecoveredState> {
    const queues: RecoveredQueue[] = [];
    for (const [queue, messages] of this.queues) {
      if (messages.size === 0) continue;
      queues.push({
        queue,
        messages: [...messages.values()].map((s) => ({ message: s.message, deliveryCount: s.deliveryCount })),
      });
    }
    const kv: KvEntry[] = [];
    for (const [namespace, m] of this.kv) for (const [key, value] of m) kv.push({ namespace, key, value });
    const state: RecoveredState = { queues, durables: [...this.durables.values()], kv };
    // Only when there are any, so that stores without XA compare equal to before.
    return this.prepared.size === 0 ? state : { ...state, prepared: [...this.prepared.values()] };
  }

  write(ops: readonly StoreOp[]): Promise<void> {
    if (this.failure !== undefined) {
      const e = this.failure;
      this.failure = undefined;
      return Promise.reject(e);
    }
    if (this.held !== undefined) {
      return new Promise((resolve, reject) => this.held!.push({ ops, resolve, reject }));
    }
    this.apply(ops);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.release();
  }

  /** Holds writes back (not applied, promises pending) until `release()`: a slow disk. */
  hold(): void {
    this.held ??= [];
  }

  /** Applies held writes in order and resolves them. */
  release(): void {
    const held = this.held;
    this.held = undefined;
    if (held === undefined) return;
    for (const w of held) {
      this.apply(w.ops);
      w.resolve();
    }
  }

  /** The next write is rejected with `error` and not applied (a failed fsync). */
  failNext(error: unknown): void {
    this.failure = error;
  }

  /** Message ids stored for a queue key, in order. */
  messageIds(queue: string): string[] {
    return [...(this.queues.get(queue)?.keys() ?? [])];
  }

  durableRecords(): DurableRecord[] {
    return [...this.durables.values()];
  }

  /** Prepared XA branches (tests). */
  preparedBranches(): PreparedBranch[] {
    return [...this.prepared.values()];
  }

  /** Key/value records of a namespace (tests). */
  kvRecords(namespace: string): Map<string, Uint8Array> {
    return new Map(this.kv.get(namespace));
  }

  private apply(ops: readonly StoreOp[]): void {
    this.writes++;
    for (const op of ops) {
      this.opCounts[op.type]++;
      switch (op.type) {
        case 'enqueue': {
          let q = this.queues.get(op.queue);
          if (q === undefined) {
            q = new Map();
            this.queues.set(op.queue, q);
          }
          q.set(op.message.id, { message: op.message, deliveryCount: 0 });
          break;
        }
        case 'dequeue':
          this.queues.get(op.queue)?.delete(op.messageId);
          break;
        case 'delivery-count': {
          const s = this.queues.get(op.queue)?.get(op.messageId);
          if (s !== undefined) s.deliveryCount = op.deliveryCount;
          break;
        }
        case 'durable-add':
          this.durables.set(op.record.queue, op.record);
          break;
        case 'durable-remove':
          this.durables.delete(op.queue);
          this.queues.delete(op.queue);
          break;
        case 'kv-put': {
          let m = this.kv.get(op.namespace);
          if (m === undefined) {
            m = new Map();
            this.kv.set(op.namespace, m);
          }
          m.set(op.key, op.value);
          break;
        }
        case 'kv-delete': {
          const m = this.kv.get(op.namespace);
          m?.delete(op.key);
          if (m?.size === 0) this.kv.delete(op.namespace);
          break;
        }
        case 'xa-prepare': {
          const { type: _, ...branch } = op;
          const key = xidKey(op.xid);
          // A repeated prepare replaces the earlier record (and moves it last, as the journal's replay does).
          this.prepared.delete(key);
          this.prepared.set(key, branch);
          break;
        }
        case 'xa-forget':
          this.prepared.delete(xidKey(op.xid));
          break;
      }
    }
  }
}
