/**
 * MessageStore: the only way the core talks to storage. Implementations: src/store/memory (tests,
 * restart within one process), the journal (embedded default), PostgreSQL (shared store for HA).
 *
 * Model. The store holds named queues of messages, each message identified within its queue by
 * `message.id`, plus the durable-subscription records. Queue keys are opaque strings chosen by the core:
 * a queue's canonical address (`queue://orders`, `queue://DLQ.orders`) or a durable subscription's
 * internal key (`durable://<clientId>/<name>`, see DurableRecord.queue). Temporary destinations and
 * non-persistent messages are never stored.
 *
 * Contract.
 * - `write(ops)` applies ALL of `ops` atomically (a transaction commit, or a DLQ move = dequeue +
 *   enqueue, must never be half-applied after a crash) and resolves once they are durable.
 * - Writes apply in call order, and a write resolves only after every earlier write is durable: the core
 *   issues calls without waiting and relies on this ordering (an enqueue is always issued before the
 *   dequeue of the same message).
 * - The core coalesces the operations of one synchronous turn into one `write` call, so a journal sees
 *   batches and can group-commit several calls into one fdatasync.
 * - When one batch enqueues the same Message object into several queues (a topic message fanned out
 *   to several durable subscriptions) the store may keep the body once and reference-count it.
 * - `dequeue`/`delivery-count` of an unknown message are no-ops (an expired message may be swept after
 *   a purge, etc.).
 * - Key/value records (`kv-put`/`kv-delete`) hold small pieces of protocol state that are not messages
 *   (MQTT session state: subscriptions, QoS 2 packet ids in flight, session expiry; see core/kv.ts).
 *   They live in namespaces, a put replaces the value of its key, a delete of an unknown key is a no-op,
 *   and they ride in the same atomic batches as the message operations, so that a message and the
 *   protocol state naming it (an incoming QoS 2 packet id) become durable together.
 * - Queue keys starting `retained://` hold retained messages (core/retained-persistence.ts), one per key.
 * - `xa-prepare` / `xa-forget` hold prepared XA branches (core/xa.ts). A prepare must be durable and
 *   recovered whole, and the messages its acks name stay stored until the commit's dequeues.
 * - Paging (core/paging.ts): a store that implements `read` and `readSync` lets the core drop the bodies
 *   of stored pending messages from memory and read them back by id. The core reads only messages whose
 *   enqueue it saw durable and has not dequeued; a read sees every write resolved before it was called.
 */
import type { Xid } from './api.js';
import type { Message } from './message.js';

/** A durable topic subscription as stored; its messages are those of the queue `queue`. */
export interface DurableRecord {
  /** Internal queue key holding the subscription's messages. */
  readonly queue: string;
  readonly clientId: string;
  readonly name: string;
  /** Topic address or pattern subscribed to (`topic://prices.>`). */
  readonly address: string;
  readonly selector?: string;
  readonly noLocal: boolean;
}

export type StoreOp =
  /** Add a message at the tail of a queue, with delivery count 0. */
  | { readonly type: 'enqueue'; readonly queue: string; readonly message: Message }
  /** Remove a message from a queue: consumed (acked), expired, moved to the DLQ, or purged. */
  | { readonly type: 'dequeue'; readonly queue: string; readonly messageId: string }
  /** Remember how often a message was delivered without being acked (survives restarts, counts to DLQ). */
  | {
      readonly type: 'delivery-count';
      readonly queue: string;
      readonly messageId: string;
      readonly deliveryCount: number;
    }
  | { readonly type: 'durable-add'; readonly record: DurableRecord }
  /** Deletes the durable record whose queue key is `queue`, and every message of that queue. */
  | { readonly type: 'durable-remove'; readonly queue: string }
  /** Sets the value of `key` in `namespace` (replacing any previous value). */
  | { readonly type: 'kv-put'; readonly namespace: string; readonly key: string; readonly value: Uint8Array }
  | { readonly type: 'kv-delete'; readonly namespace: string; readonly key: string }
  /**
   * An XA branch prepared (core/xa.ts): everything it would do on commit. Live until an `xa-forget` of
   * the same xid; a second prepare of the same xid replaces the first (compaction copies it forward).
   */
  | ({ readonly type: 'xa-prepare' } & PreparedBranch)
  /**
   * The branch is finished. Commit = forget + the real enqueue/dequeue ops in the same batch (so a crash
   * leaves the branch either prepared or applied); rollback = forget alone.
   */
  | { readonly type: 'xa-forget'; readonly xid: Xid };

/** A prepared XA branch as stored: its sends (held, not routed) and the messages it acked (locked). */
export interface PreparedBranch {
  readonly xid: Xid;
  /** Persistent messages to route on commit; `address` is the send target (canonical, may be a topic). */
  readonly sends: readonly { readonly address: string; readonly message: Message }[];
  /** Stored messages consumed on commit; they stay locked (delivered to nobody) while prepared. */
  readonly acks: readonly { readonly queue: string; readonly messageId: string }[];
}

/** A key/value record as stored. */
export interface KvEntry {
  readonly namespace: string;
  readonly key: string;
  readonly value: Uint8Array;
}

export interface RecoveredMessage {
  readonly message: Message;
  /** Deliveries not acked before the restart (from `delivery-count` ops); 0 if never recorded. */
  readonly deliveryCount: number;
  /**
   * Set when the store recovered the message without its body (paging stores, to keep recovery within
   * memory): `message.body` is empty, the body has this many bytes and `read` returns it.
   */
  readonly bodyBytes?: number;
}

export interface RecoveredQueue {
  readonly queue: string;
  /** In enqueue order. */
  readonly messages: readonly RecoveredMessage[];
}

export interface RecoveredState {
  readonly queues: readonly RecoveredQueue[];
  readonly durables: readonly DurableRecord[];
  /** Live key/value records, in no particular order; absent from stores that predate them (= none). */
  readonly kv?: readonly KvEntry[];
  /** XA branches prepared and not yet committed or rolled back; absent = none. */
  readonly prepared?: readonly PreparedBranch[];
}

export interface MessageStore {
  /** Reads everything back; called once by createBrokerCore before any write. */
  load(): Promise<RecoveredState>;
  write(ops: readonly StoreOp[]): Promise<void>;
  /**
   * Reads stored messages back (paging in): `result[i]` is message `ids[i]` of `queue` as enqueued, or
   * undefined when the store does not hold it. Optional: without both reads nothing is paged out.
   */
  read?(queue: string, ids: readonly string[]): Promise<(Message | undefined)[]>;
  /** The same, blocking the caller: for browsing (bounded by the browse's max), never for dispatch. */
  readSync?(queue: string, ids: readonly string[]): (Message | undefined)[];
  /** Flushes and releases resources; the core calls it from shutdown() only if it owns the store. */
  close(): Promise<void>;
}

const HEX = '0123456789abcdef';

function hex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 15]!;
  return s;
}

/**
 * Identity of an XA branch: format id and both byte strings (XA compares all three [XA §4.2]). Part of the
 * store contract because stores key prepared branches by it.
 */
export function xidKey(xid: Xid): string {
  return `${xid.formatId}:${hex(xid.globalId)}:${hex(xid.branchId)}`;
}
