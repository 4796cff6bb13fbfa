/**
 * A local transaction of one connection (JMS transacted session / STOMP BEGIN..COMMIT). Sends are
 * buffered, validated and authorized when sent; acks and nacks are recorded and applied at commit.
 * Everything commit does happens in one synchronous turn, so its store operations form one batch.
 */
import type { Address } from './address.js';
import { bothDone, type FlowCollector } from './memory.js';
import type { Message } from './message.js';
import { RESOLVED, type StoreWriter } from './store-writer.js';

/** Whoever can finish a delivery: a Queue (queue entries) or a TopicSubscriber (topic deliveries). */
export interface Settler<T> {
  /** Consumed: remove for good. */
  settleAck(item: T): void;
  /** Not consumed: back for redelivery (or to the DLQ past the redelivery maximum). */
  settleReturn(item: T): void;
}

export interface PendingSettlement {
  readonly settler: Settler<unknown>;
  readonly item: unknown;
  readonly nack: boolean;
}

export interface PendingSend {
  readonly target: Address;
  readonly message: Message;
}

export class Transaction {
  readonly sends: PendingSend[] = [];
  readonly settlements: PendingSettlement[] = [];

  constructor(readonly id: string) {}

  settle<T>(settler: Settler<T>, item: T, nack: boolean): void {
    this.settlements.push({ settler: settler as Settler<unknown>, item, nack });
  }

  /** Applies recorded acks/nacks (commit). */
  applySettlements(): void {
    for (const s of this.settlements) {
      if (s.nack) s.settler.settleReturn(s.item);
      else s.settler.settleAck(s.item);
    }
    this.settlements.length = 0;
  }

  /** Everything acked or nacked inside the transaction comes back for redelivery (rollback). */
  returnSettlements(): void {
    for (const s of this.settlements) s.settler.settleReturn(s.item);
    this.settlements.length = 0;
    this.sends.length = 0;
  }
}

/** What applying a commit needs of the broker (Broker implements it). */
export interface CommitContext {
  readonly writer: StoreWriter | undefined;
  readonly flow: FlowCollector;
  /** Delivers a message to one validated destination (Broker.route). */
  route(target: Address, message: Message): void;
}

/**
 * Applies `tx` in the current synchronous turn, so that its enqueues and dequeues form one store batch
 * with whatever the caller added before (XA: the `xa-forget`): routes its sends, then applies its acks
 * and nacks. Resolves once that batch is durable and the memory gates the sends hit are open again
 * (core/memory.ts); rejects as soon as the store fails.
 */
export function commitTransaction(ctx: CommitContext, tx: Transaction): Promise<void> {
  const flow = ctx.flow;
  const outer = flow.begin();
  for (const s of tx.sends) ctx.route(s.target, s.message);
  const wait = flow.end(outer);
  tx.applySettlements();
  const durable = ctx.writer?.durable() ?? RESOLVED;
  return wait === undefined ? durable : bothDone(durable, wait);
}
