/**
 * A subscription as the application sees it: an async iterable of messages (and `receive()`), with
 * credit-based flow control (native.proto Subscribe/Credit): the broker sends at most `prefetch`
 * messages ahead; credit goes back only as the application takes messages, so a slow `for await` loop
 * slows the broker down instead of filling memory.
 *
 * Across reconnects (client.ts calls interrupted()/resumed()): messages buffered but not yet taken are
 * dropped when the broker will redeliver them (every ack mode but AUTO), the subscription is made again
 * on the new connection, and a redelivered message the application already acked is acked again
 * silently instead of being handed over twice (AckedIds).
 */

import { AckedIds } from './acked-ids.js';
import { ClientCodes, ClientError } from './codec/errors.js';
import { AckModeWire, type Delivery, type Frame, type WireMessage } from './codec/frames.js';
import { DeliveredMessage } from './delivered.js';
import type { PropertyValue, ReceivedMessage } from './message.js';
import { afterTurn } from './timers.js';

export type AckMode = 'auto' | 'individual' | 'cumulative';

export interface SubscribeOptions {
  /** auto: acked by the broker when sent (at most once). individual (default): ack() each message.
   *  cumulative: ack() of a message acks every earlier one of this subscription too. */
  ackMode?: AckMode;
  /** Messages the broker may send ahead of the application (credit). Default 100. */
  prefetch?: number;
  selector?: string;
  /** Durable topic subscription name (the client needs a clientId). */
  durableName?: string;
  noLocal?: boolean;
  /** Subscriptions of one share group on one topic share its messages. */
  shareGroup?: string;
  /** Ends the subscription (the iteration finishes; receive() rejects with ABORTED). */
  signal?: AbortSignal;
}

export interface ReceiveOptions {
  /** ms; resolves undefined when no message came in time. Absent: wait indefinitely. */
  timeout?: number;
  signal?: AbortSignal;
}

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  /** Increments with every new connection; deliveries and tags are only valid in their epoch. */
  readonly epoch: number;
  post(frame: Frame): void;
  request(build: (requestId: number) => Frame): Promise<unknown>;
  /** On the current connection only: fails at once while reconnecting (acks with stale tags must not wait). */
  requestNow(build: (requestId: number) => Frame): Promise<unknown>;
  removeSubscription(id: number): void;
}

/** A received message that can be acknowledged. */
export interface Message extends ReceivedMessage {
  /** Resolves once the broker has the ack (durably for persistent messages). No-op for ackMode auto. */
  ack(): Promise<void>;
  /** Gives the message back for redelivery (or the dead-letter queue past the redelivery limit). */
  nack(): Promise<void>;
}

/** The subscription a received message came from (transactions ack through it). */
export function subscriptionOf(m: ReceivedMessage): Subscription {
  return DeliveredMessage.owner(DeliveredMessage.of(m)) as Subscription;
}

/** Acks messages of any of this client's subscriptions in transaction `txId`: one Ack per subscription. */
export async function ackInTransaction(messages: readonly ReceivedMessage[], txId: string): Promise<void> {
  const bySub = new Map<Subscription, ReceivedMessage[]>();
  for (const m of messages) {
    const sub = subscriptionOf(m);
    const list = bySub.get(sub);
    if (list) list.push(m);
    else bySub.set(sub, [m]);
  }
  await Promise.all([...bySub].map(([sub, ms]) => sub.ackInTransaction(ms, txId)));
}

/** After the commit of a transaction that acked `messages`: they must never reach the application again. */
export function markAcked(messages: readonly ReceivedMessage[]): void {
  for (const m of messages) subscriptionOf(m).markAcked(m.id);
}

interface Waiter {
  resolve(m: Message | undefined): void;
  reject(e: Error): void;
}

/**
 * The acks of one event-loop turn: one Ack frame, and one promise that every ack() of the turn returns
 * (they all settle together anyway: one promise per batch instead of one per message).
 */
class AckBatch {
  readonly tags: number[] = [];
  /** The acked messages' ids (and, cumulative, of earlier ones the ack covers): remembered if it is lost. */
  readonly ids: string[] = [];
  resolve!: () => void;
  reject!: (e: Error) => void;
  readonly promise = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  /** Set once its Ack frame went out (or it was given up): the turn's flush then has nothing to do. */
  done = false;

  /** Its tags are valid on this connection epoch only. */
  constructor(readonly epoch: number) {}
}

const RESOLVED: Promise<void> = Promise.resolve();
const NO_MESSAGE: WireMessage = {};

const ACK_MODE_WIRE = {
  auto: AckModeWire.AUTO,
  individual: AckModeWire.INDIVIDUAL,
  cumulative: AckModeWire.CUMULATIVE,
};

export class Subscription implements AsyncIterable<Message> {
  readonly ackMode: AckMode;
  readonly prefetch: number;
  private readonly buffer: DeliveredMessage[] = [];
  private head = 0;
  private readonly waiters: Waiter[] = [];
  /**
   * Ids of messages the application acked whose ack may not have taken effect at the broker: acks lost
   * with a connection (or sent with a dead connection's tags), and transactional acks once committed
   * (possibly elsewhere: XA). An ack the broker answered is durable there, and on one connection an
   * acked message is never delivered again (the broker holds it for the subscription until the ack), so
   * those ids need not be remembered: this stays empty, and costs nothing per message, until a failover
   * (docs/CLIENT.md "Performance").
   */
  private readonly acked = new AckedIds();
  /** Consumed since the last Credit frame. */
  private toGrant = 0;
  private ended = false;
  private failure: Error | undefined;
  /** Tags to ack in the next Ack frame (one frame per event-loop turn). */
  private ackBatch: AckBatch | undefined;
  /** Cumulative mode: handed to the application and not acked yet, by tag (an ack covers every earlier one). */
  private readonly unacked = new Map<number, string>();
  private readySettle!: { resolve(): void; reject(e: Error): void };
  /** Resolves once the broker has made the subscription (Subscribed); rejects if it refused. */
  readonly ready: Promise<void> = new Promise((resolve, reject) => {
    this.readySettle = { resolve, reject };
  });
  private readonly onAbort = () =>
    void this.close(new ClientError(ClientCodes.ABORTED, 'subscription aborted'));

  constructor(
    readonly id: number,
    readonly address: string,
    private readonly options: SubscribeOptions & { endOnInterrupt?: boolean },
    private readonly host: SubscriptionHost,
  ) {
    this.ackMode = options.ackMode ?? 'individual';
    this.prefetch = Math.max(1, options.prefetch ?? 100);
    // Callers that never await `ready` learn of a refusal from the iteration instead.
    this.ready.catch(() => {});
    if (options.signal?.aborted) queueMicrotask(this.onAbort);
    else options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** @internal Subscribed. */
  markReady(): void {
    this.readySettle.resolve();
  }

  /** @internal The broker refused the Subscribe. */
  failSubscribe(error: Error): void {
    this.readySettle.reject(error);
    this.finish(error);
  }

  /** @internal The client is closed for good: by close() (`clean`, the iteration just ends) or by `error`. */
  interruptedForGood(error: Error, clean: boolean): void {
    this.readySettle.reject(error);
    this.buffer.length = 0;
    this.head = 0;
    this.finish(clean ? undefined : error);
  }

  /** The Subscribe frame for the current connection; the credit accounts for what is still buffered. */
  subscribeFrame(requestId: number): Frame {
    const o = this.options;
    return {
      subscribe: {
        request_id: requestId,
        subscription_id: this.id,
        address: this.address,
        ack_mode: ACK_MODE_WIRE[this.ackMode],
        credit: Math.max(0, this.prefetch - this.buffered),
        selector: o.selector,
        durable_name: o.durableName,
        no_local: o.noLocal,
        share_group: o.shareGroup,
      },
    };
  }

  get buffered(): number {
    return this.buffer.length - this.head;
  }

  get isClosed(): boolean {
    return this.ended;
  }

  /** Whether the client should make this subscription again after a reconnect. */
  get survivesReconnect(): boolean {
    return !this.ended && !this.options.endOnInterrupt;
  }

  onDelivery(d: Delivery): void {
    if (this.ended) return;
    const wire = d.message ?? NO_MESSAGE;
    const tag = d.tag ?? 0;
    if (this.ackMode !== 'auto' && this.acked.size > 0 && wire.id && this.acked.has(wire.id)) {
      // Redelivery of a message the application already acked (the ack was lost with a connection).
      this.host.post({ ack: { subscription_id: this.id, tags: [tag], up_to: this.cumulativeUpTo(tag) } });
      this.grant(1);
      return;
    }
    // delivery_count is 1 on a first delivery (native.proto); absent (0) from an older peer means the same.
    const m = new DeliveredMessage(
      wire,
      d.redelivered ?? false,
      d.delivery_count || 1,
      this,
      tag,
      this.host.epoch,
    );
    const w = this.waiters.shift();
    if (w) {
      this.handOut(m);
      w.resolve(m);
    } else this.buffer.push(m);
  }

  /** The connection is gone. Buffered messages the broker will redeliver are dropped. */
  interrupted(): void {
    // Acks of this turn not sent yet carry dead tags: they are lost (flushAcks will not send them).
    if (this.ackBatch !== undefined) this.lostAcks(this.ackBatch);
    this.ackBatch = undefined;
    this.toGrant = 0;
    this.unacked.clear();
    if (this.options.endOnInterrupt) {
      this.finish(new ClientError(ClientCodes.CONNECTION_LOST, `${this.address} ended with its connection`));
      this.host.removeSubscription(this.id);
      return;
    }
    if (this.ackMode !== 'auto') {
      this.buffer.length = 0;
      this.head = 0;
    }
  }

  /** The broker ended the subscription (SubscriptionClosed). */
  closedByBroker(reason: string): void {
    this.finish(new ClientError('SUBSCRIPTION_CLOSED', `the broker closed the subscription: ${reason}`));
  }

  next(): Promise<IteratorResult<Message>> {
    // The usual case in a busy loop, one promise per message instead of two.
    if (this.buffered > 0) return Promise.resolve({ value: this.takeBuffered(), done: false });
    return this.take().then((m) => (m ? { value: m, done: false } : { value: undefined, done: true }));
  }

  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: () => this.next(),
      // `break` out of a for-await loop ends the subscription.
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /** The next message; undefined after `timeout` ms or when the subscription has ended. */
  receive(options: ReceiveOptions = {}): Promise<Message | undefined> {
    const { timeout, signal } = options;
    if (signal?.aborted) return Promise.reject(new ClientError(ClientCodes.ABORTED, 'receive aborted'));
    if (this.buffered > 0 || this.ended || timeout === 0) {
      return this.take(true);
    }
    return new Promise<Message | undefined>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
      };
      const waiter: Waiter = {
        resolve: (m) => {
          cleanup();
          resolve(m);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      };
      const drop = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
      };
      const abort = () => {
        drop();
        waiter.reject(new ClientError(ClientCodes.ABORTED, 'receive aborted'));
      };
      signal?.addEventListener('abort', abort, { once: true });
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          drop();
          waiter.resolve(undefined);
        }, timeout);
      }
      this.waiters.push(waiter);
    });
  }

  /** Ends the subscription: Unsubscribe, the iteration finishes. Unacked messages return to the broker. */
  async close(reason?: Error): Promise<void> {
    if (this.ended) return;
    this.finish(reason instanceof ClientError && reason.code === ClientCodes.ABORTED ? undefined : reason);
    // Unacked deliveries go back to the broker with the Unsubscribe; the application must not get them.
    if (this.ackMode !== 'auto') {
      this.buffer.length = 0;
      this.head = 0;
    }
    this.host.removeSubscription(this.id);
    // Acks the application made this turn go before the Unsubscribe: after it, their tags are unknown to
    // the broker, and the acked messages would be redelivered to another consumer.
    if (this.ackBatch !== undefined) this.flushAcks(this.ackBatch);
    await this.host
      .requestNow((request_id) => ({ unsubscribe: { request_id, subscription_id: this.id } }))
      .catch(() => {
        // Gone with the connection or unknown to the broker: either way it is unsubscribed.
      });
  }

  ack(message: ReceivedMessage): Promise<void> {
    const d = DeliveredMessage.of(message);
    if (this.ackMode === 'auto') return RESOLVED;
    if (DeliveredMessage.epoch(d) !== this.host.epoch) {
      // Its tag died with its connection; the broker redelivers it: ack the copy if it is already here,
      // and the one still to come when it arrives.
      this.acked.add(message.id);
      this.dropRedeliveredCopy(message.id);
      return RESOLVED;
    }
    const tag = DeliveredMessage.tag(d);
    let batch = this.ackBatch;
    if (batch === undefined) {
      const b = new AckBatch(this.host.epoch);
      this.ackBatch = batch = b;
      afterTurn(() => this.flushAcks(b));
    }
    if (this.ackMode === 'cumulative') {
      this.unacked.delete(tag);
      // Deliveries enter `unacked` as the application takes them, in arrival order, which is tag order on
      // one connection (the map is emptied when it is lost): the ones this ack covers are at its front,
      // so acking every message costs O(1) each, not a walk over the whole window.
      for (const t of this.unacked.keys()) {
        if (t >= tag) break;
        this.forgetUnacked(t, batch);
      }
    }
    batch.tags.push(tag);
    batch.ids.push(message.id);
    return batch.promise;
  }

  /** Acks inside a transaction: the ids count as acked (for redelivery filtering) only once committed. */
  async ackInTransaction(messages: readonly ReceivedMessage[], txId: string): Promise<void> {
    const tags = messages
      .map((m) => DeliveredMessage.of(m))
      .filter((d) => DeliveredMessage.epoch(d) === this.host.epoch)
      .map((d) => DeliveredMessage.tag(d));
    if (tags.length !== messages.length) {
      throw new ClientError(
        ClientCodes.TRANSACTION_ROLLED_BACK,
        'the connection was lost during the transaction',
      );
    }
    for (const t of tags) this.unacked.delete(t);
    if (tags.length === 0) return;
    await this.host.requestNow((request_id) => ({
      ack: {
        request_id,
        subscription_id: this.id,
        tags,
        up_to: this.ackMode === 'cumulative' ? Math.max(...tags) : 0,
        tx_id: txId,
      },
    }));
  }

  /** @internal After a commit that acked it (markAcked above). */
  markAcked(id: string): void {
    this.acked.add(id);
  }

  async nack(message: ReceivedMessage): Promise<void> {
    const d = DeliveredMessage.of(message);
    const tag = DeliveredMessage.tag(d);
    this.unacked.delete(tag);
    // AUTO deliveries are the broker's already; an old epoch's delivery is redelivered anyway.
    if (this.ackMode === 'auto' || DeliveredMessage.epoch(d) !== this.host.epoch) return;
    await this.host.requestNow((request_id) => ({
      nack: { request_id, subscription_id: this.id, tags: [tag] },
    }));
  }

  private flushAcks(batch: AckBatch): void {
    if (batch.done) return;
    batch.done = true;
    if (this.ackBatch === batch) this.ackBatch = undefined;
    // Tags of a connection gone since (even if another one is up already) mean nothing to the broker.
    if (batch.epoch !== this.host.epoch) {
      this.lostAcks(batch);
      return;
    }
    const tags = batch.tags;
    const cumulative = this.ackMode === 'cumulative';
    this.host
      .requestNow((request_id) => ({
        ack: cumulative
          ? { request_id, subscription_id: this.id, up_to: Math.max(...tags) }
          : { request_id, subscription_id: this.id, tags },
      }))
      .then(
        () => batch.resolve(),
        (e: ClientError) => {
          if (e.code === ClientCodes.CONNECTION_LOST) this.lostAcks(batch);
          else batch.reject(e);
        },
      );
  }

  /**
   * Acks that may not have reached the broker (lost with their connection): their messages come again,
   * and must be acked again silently, never handed out twice. The application's ack() resolves: from
   * its side the message is acked.
   */
  private lostAcks(batch: AckBatch): void {
    batch.done = true;
    for (const id of batch.ids) this.acked.add(id);
    batch.resolve();
  }

  private cumulativeUpTo(tag: number): number {
    return this.ackMode === 'cumulative' ? tag : 0;
  }

  /** An earlier delivery covered by a cumulative ack in `batch`. */
  private forgetUnacked(tag: number, batch: AckBatch): void {
    const id = this.unacked.get(tag);
    if (id) batch.ids.push(id);
    this.unacked.delete(tag);
  }

  private dropRedeliveredCopy(id: string): void {
    for (let i = this.head; i < this.buffer.length; i++) {
      const m = this.buffer[i]!;
      if (m.id !== id) continue;
      this.buffer.splice(i, 1);
      const tag = DeliveredMessage.tag(m);
      this.host.post({ ack: { subscription_id: this.id, tags: [tag], up_to: this.cumulativeUpTo(tag) } });
      this.grant(1);
      return;
    }
  }

  /** The oldest buffered message, handed out (buffered > 0). */
  private takeBuffered(): DeliveredMessage {
    const m = this.buffer[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
    this.handOut(m);
    return m;
  }

  private take(nowOrNothing = false): Promise<Message | undefined> {
    if (this.buffered > 0) return Promise.resolve(this.takeBuffered());
    if (this.failure) {
      const f = this.failure;
      this.failure = undefined;
      return Promise.reject(f);
    }
    if (this.ended || nowOrNothing) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** The application has taken `m`: give the broker credit for one more. */
  private handOut(m: DeliveredMessage): void {
    if (this.ackMode === 'cumulative') this.unacked.set(DeliveredMessage.tag(m), m.id);
    this.grant(1);
  }

  /** Credit goes back in batches of a quarter of the prefetch: one Credit frame per few messages. */
  private grant(n: number): void {
    this.toGrant += n;
    if (this.ended || this.toGrant < Math.max(1, this.prefetch >> 2)) return;
    const credit = this.toGrant;
    this.toGrant = 0;
    this.host.post({ credit: { subscription_id: this.id, credit } });
  }

  private finish(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    const waiters = this.waiters.splice(0);
    if (error && waiters.length === 0) this.failure = error;
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve(undefined);
    }
  }
}

export type { PropertyValue };
