/**
 * A local transaction (native.proto TxBegin/TxCommit/TxRollback): sends and acks carrying its tx_id take
 * effect together at commit, durably. A transaction does not survive its connection: after a failover
 * the broker has rolled it back, so commit() rejects with TRANSACTION_ROLLED_BACK (as JMS does) and the
 * acked messages come again.
 */
import { ClientCodes, ClientError } from './codec/errors.js';
import type { Frame, WireMessage } from './codec/frames.js';
import { type Body, type PublishOptions, toWireMessage } from './message.js';
import { type Message, type Subscription, subscriptionOf } from './subscription.js';

export interface TxHost {
  epoch(): number;
  request(build: (requestId: number) => Frame): Promise<unknown>;
  forgetTransaction(tx: Transaction): void;
}

export class Transaction {
  /** Set when the connection the transaction lived on was lost. */
  broken = false;
  private done = false;
  private readonly acked: Message[] = [];

  constructor(
    readonly id: string,
    private readonly host: TxHost,
    public epoch: number,
  ) {}

  async publish(address: string, body: Body, options: PublishOptions = {}): Promise<void> {
    await this.sendFrame([toWireMessage(address, body, options)]);
  }

  async publishBatch(
    entries: ReadonlyArray<{ address: string; body: Body; options?: PublishOptions }>,
  ): Promise<void> {
    await this.sendFrame(entries.map((e) => toWireMessage(e.address, e.body, e.options)));
  }

  /** Acks as part of the transaction; the messages are redelivered if it rolls back. */
  async ack(...messages: Message[]): Promise<void> {
    this.check();
    const bySub = new Map<Subscription, Message[]>();
    for (const m of messages) {
      const sub = subscriptionOf(m);
      bySub.set(sub, [...(bySub.get(sub) ?? []), m]);
    }
    await Promise.all([...bySub].map(([sub, ms]) => sub.ackInTransaction(ms, this.id)));
    this.acked.push(...messages);
  }

  async commit(): Promise<void> {
    this.check();
    this.done = true;
    this.host.forgetTransaction(this);
    await this.host.request((request_id) => ({ tx_commit: { request_id, tx_id: this.id } }));
    for (const m of this.acked) subscriptionOf(m).markAcked([m]);
  }

  async rollback(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.host.forgetTransaction(this);
    if (this.broken || this.epoch !== this.host.epoch()) return; // the broker rolled it back with the connection
    await this.host.request((request_id) => ({ tx_rollback: { request_id, tx_id: this.id } }));
  }

  private async sendFrame(messages: WireMessage[]): Promise<void> {
    this.check();
    const tx_id = this.id;
    await this.host.request((request_id) =>
      messages.length === 1
        ? { send: { request_id, message: messages[0], tx_id } }
        : { send_batch: { request_id, messages, tx_id } },
    );
  }

  private check(): void {
    if (this.done) throw new ClientError(ClientCodes.ILLEGAL_STATE, `transaction ${this.id} is finished`);
    if (this.broken || this.epoch !== this.host.epoch()) {
      this.done = true;
      this.host.forgetTransaction(this);
      throw new ClientError(
        ClientCodes.TRANSACTION_ROLLED_BACK,
        `transaction ${this.id} was rolled back: its connection was lost`,
      );
    }
  }
}
