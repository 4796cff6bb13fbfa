/**
 * A local transaction (native.proto TxBegin/TxCommit/TxRollback): sends and acks carrying its tx_id take
 * effect together at commit, durably. A transaction does not survive its connection: after a failover
 * the broker has rolled it back, so commit() rejects with TRANSACTION_ROLLED_BACK (as JMS does) and the
 * acked messages come again.
 *
 * One case is recovered instead: the connection is lost after TxCommit was written but before its
 * answer, so the commit may or may not have happened. A transaction that only sent is then replayed on
 * the next connection (TxBegin, the same sends, TxCommit). Its sends carry a producer id of their own
 * (`<client producer id>/<tx id>`) and sequences 1, 2, ...: the broker drops each one it already
 * committed (native.proto Send, duplicate detection), so the messages are delivered exactly once either
 * way. A producer id per transaction, not the client's, because the broker keeps one high-water mark
 * per producer and transactions of one client may commit in any order. A transaction that acked cannot
 * be replayed (its delivery tags died with the connection): its commit rejects with CONNECTION_LOST.
 *
 * Message ids (`publishForId`): the broker assigns a message's id when the Send is buffered in the
 * transaction and the message keeps it through commit, so the id is known before commit. A replay keeps
 * the ids of the first sends (the broker answers a duplicate with the same id, or "" if it forgot it).
 */
import { ClientCodes, ClientError, isClientError } from './codec/errors.js';
import type { DecodedFrame, Frame, WireMessage } from './codec/frames.js';
import { type Body, type PublishOptions, toWireMessage } from './message.js';
import { idAt, messageIdsOf } from './message-ids.js';
import { ackInTransaction, type Message, markAcked } from './subscription.js';

export interface TxHost {
  readonly producerId: string;
  epoch(): number;
  request(build: (requestId: number) => Frame): Promise<DecodedFrame>;
  forgetTransaction(tx: Transaction): void;
}

export class Transaction {
  /** Set when the connection the transaction lived on was lost. */
  broken = false;
  private done = false;
  private readonly acked: Message[] = [];
  /** Every send, for a replay: messages, the first sequence, and whether ids were asked for. */
  private readonly sends: TxSend[] = [];
  private nextSequence = 1;

  constructor(
    readonly id: string,
    private readonly host: TxHost,
    public epoch: number,
  ) {}

  async publish(address: string, body: Body, options: PublishOptions = {}): Promise<void> {
    await this.sendFrame([toWireMessage(address, body, options)], false);
  }

  /**
   * `publish` resolving with the id the broker gave the message (BlazeClient.publishForId); it is the
   * message's id once committed. Undefined when the broker cannot tell (protocol version 1).
   */
  async publishForId(address: string, body: Body, options: PublishOptions = {}): Promise<string | undefined> {
    return idAt(await this.sendFrame([toWireMessage(address, body, options)], true), 0);
  }

  async publishBatch(entries: ReadonlyArray<BatchEntry>): Promise<void> {
    await this.sendFrame(
      entries.map((e) => toWireMessage(e.address, e.body, e.options)),
      false,
    );
  }

  /** `publishBatch` resolving with each message's id, in order. */
  async publishBatchForIds(entries: ReadonlyArray<BatchEntry>): Promise<Array<string | undefined>> {
    const messages = entries.map((e) => toWireMessage(e.address, e.body, e.options));
    const ids = await this.sendFrame(messages, true);
    return messages.map((_, i) => idAt(ids, i));
  }

  /** Acks as part of the transaction; the messages are redelivered if it rolls back. */
  async ack(...messages: Message[]): Promise<void> {
    this.check();
    await ackInTransaction(messages, this.id);
    this.acked.push(...messages);
  }

  async commit(): Promise<void> {
    this.check();
    this.done = true;
    this.host.forgetTransaction(this);
    try {
      await this.host.request((request_id) => ({ tx_commit: { request_id, tx_id: this.id } }));
    } catch (e) {
      if (!isConnectionLost(e) || this.acked.length > 0 || this.sends.length === 0) throw e;
      await this.replay();
    }
    markAcked(this.acked);
  }

  /** The commit's outcome is unknown: the whole transaction again (sequences make it idempotent). */
  private async replay(): Promise<void> {
    // Each attempt needs a new connection (the request waits for one); a refusal ends the loop.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.host.request((request_id) => ({ tx_begin: { request_id, tx_id: this.id } }));
        await Promise.all(this.sends.map((s) => this.host.request((rid) => this.sendFrameOf(rid, s))));
        await this.host.request((request_id) => ({ tx_commit: { request_id, tx_id: this.id } }));
        return;
      } catch (e) {
        if (!isConnectionLost(e) || attempt >= MAX_REPLAYS) throw e;
      }
    }
  }

  async rollback(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.host.forgetTransaction(this);
    if (this.broken || this.epoch !== this.host.epoch()) return; // the broker rolled it back with the connection
    await this.host.request((request_id) => ({ tx_rollback: { request_id, tx_id: this.id } }));
  }

  private async sendFrame(messages: WireMessage[], wantIds: boolean): Promise<readonly string[] | undefined> {
    this.check();
    const send: TxSend = { messages, first: this.nextSequence, wantIds };
    this.nextSequence += messages.length;
    this.sends.push(send);
    return messageIdsOf(await this.host.request((request_id) => this.sendFrameOf(request_id, send)));
  }

  private sendFrameOf(request_id: number, s: TxSend): Frame {
    const tx_id = this.id;
    const producer_id = `${this.host.producerId}/${this.id}`;
    // want_ids only when asked, so that other sends are what a version 1 broker expects.
    const want = s.wantIds ? { want_ids: true } : {};
    return s.messages.length === 1
      ? { send: { request_id, message: s.messages[0], tx_id, producer_id, sequence: s.first, ...want } }
      : {
          send_batch: {
            request_id,
            messages: s.messages,
            tx_id,
            producer_id,
            first_sequence: s.first,
            ...want,
          },
        };
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

interface TxSend {
  readonly messages: WireMessage[];
  readonly first: number;
  readonly wantIds: boolean;
}

type BatchEntry = { address: string; body: Body; options?: PublishOptions };

/** Replays of one in-doubt commit at most (each after a new connection). */
const MAX_REPLAYS = 5;

function isConnectionLost(e: unknown): boolean {
  return isClientError(e) && e.code === ClientCodes.CONNECTION_LOST;
}
