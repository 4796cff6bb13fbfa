/**
 * One client connection to the core (a protocol session owns exactly one). Maps the CoreConnection
 * calls onto the broker: validation and authorization first, then routing, so a refused operation
 * changes nothing.
 */
import { BlazeError } from '../util/errors.js';
import { ownBytes } from '../util/own-bytes.js';
import { type Address, parseAddress } from './address.js';
import {
  type ConnectOptions,
  type CoreConnection,
  DEFAULT_BROWSE_MAX,
  type DeliverySink,
  type Principal,
  type SubscribeOptions,
  type Subscription,
  type Xid,
} from './api.js';
import type { Broker, ConnectionStats } from './broker.js';
import { durableKey } from './durable.js';
import { bothDone } from './memory.js';
import { DEFAULT_PRIORITY, type Message, type MessageInit, type PropertyValue } from './message.js';
import { QueueConsumer } from './queue-consumer.js';
import { subscribeShared } from './shared.js';
import { RESOLVED } from './store-writer.js';
import type { BaseSubscription, SubscriptionOwner } from './subscription.js';
import { TopicSubscriber } from './topic-subscriber.js';
import { commitTransaction, Transaction } from './transaction.js';

const NO_PROPERTIES: Readonly<Record<string, PropertyValue>> = Object.freeze({});
const ACK_MODES: ReadonlySet<string> = new Set(['auto', 'cumulative', 'individual']);

function priorityOf(p: number | undefined): number {
  if (p === undefined || Number.isNaN(p)) return DEFAULT_PRIORITY;
  // JMS 3.4.10: 0..9; out-of-range values are clamped rather than refused (STOMP/MQTT clients vary).
  return p <= 0 ? 0 : p >= 9 ? 9 : Math.trunc(p);
}

export class Connection implements CoreConnection, SubscriptionOwner {
  readonly clientId?: string;
  readonly principal: Principal;
  /** Epoch ms (broker clock), for the management API. */
  readonly connectedAt: number;
  private readonly subscriptions = new Set<BaseSubscription<unknown>>();
  private readonly transactions = new Map<string, Transaction>();
  private readonly temporaries = new Set<string>();
  private subscriptionSeq = 0;
  private closed = false;
  /** Id given to the last message sent (for `sendForId`; one field write, no allocation per send). */
  private lastMessageId = '';

  constructor(
    readonly id: string,
    private readonly options: ConnectOptions,
    private readonly broker: Broker,
  ) {
    this.clientId = options.clientId;
    this.principal = options.principal;
    this.connectedAt = broker.clock.now();
  }

  checkOpen(): void {
    if (this.closed) throw new BlazeError('CLOSED', `connection ${this.id} is closed`);
    this.broker.checkOpen();
  }

  /** A local transaction, or the XA branch bound to txId on this connection (core/xa.ts). */
  transaction(txId: string): Transaction {
    const tx = this.transactions.get(txId) ?? this.broker.xa.boundTransaction(this.id, txId);
    if (tx === undefined) throw new BlazeError('NOT_FOUND', `no transaction '${txId}'`);
    return tx;
  }

  private localTransaction(txId: string): Transaction {
    const tx = this.transactions.get(txId);
    if (tx !== undefined) return tx;
    // JTA: a local commit/rollback of an XA branch is a protocol error; it ends through xaCommit etc.
    if (this.broker.xa.boundTransaction(this.id, txId) !== undefined) {
      throw new BlazeError(
        'XA_PROTO',
        `transaction '${txId}' is an XA branch: use xaEnd/xaCommit/xaRollback`,
      );
    }
    throw new BlazeError('NOT_FOUND', `no transaction '${txId}'`);
  }

  forget(sub: BaseSubscription<unknown>): void {
    this.subscriptions.delete(sub);
  }

  // --- send -----------------------------------------------------------------------------------------

  send(init: MessageInit, txId?: string): Promise<void> {
    try {
      return this.doSend(init, txId);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `send` that also tells the broker-assigned message id (management API, native `want_ids`). Throws at
   * once when the send is refused; `accepted` settles as `send`'s promise does. In a transaction the id
   * is the one the buffered message carries, so the message is routed under it at commit.
   */
  sendForId(init: MessageInit, txId?: string): { id: string; accepted: Promise<void> } {
    const accepted = this.doSend(init, txId);
    return { id: this.lastMessageId, accepted };
  }

  private doSend(init: MessageInit, txId: string | undefined): Promise<void> {
    this.checkOpen();
    const broker = this.broker;
    const targets = broker.sendTargetsOf(init.address);
    for (let i = 0; i < targets.length; i++) this.checkSendTarget(targets[i]!);
    const tx = txId === undefined ? undefined : this.transaction(txId);
    const id = broker.nextMessageId();
    this.lastMessageId = id;
    const timestamp = broker.clock.now();
    // The message outlives this call (queues, transactions, subscribers' buffers): it must not pin the
    // socket read its body may be a view of (util/own-bytes.ts).
    const body = ownBytes(init.body);
    if (tx !== undefined) {
      for (let i = 0; i < targets.length; i++) {
        const target = targets[i]!;
        tx.sends.push({ target, message: this.makeMessage(init, body, id, target.canonical, timestamp) });
      }
      return RESOLVED;
    }
    // Memory limits (core/memory.ts): the message is accepted, but the send resolves only once the
    // holders it filled past their limit have drained, which is how protocols slow their producers.
    const flow = broker.flow;
    const outer = flow.begin();
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      broker.route(target, this.makeMessage(init, body, id, target.canonical, timestamp));
    }
    const wait = flow.end(outer);
    const durable =
      init.persistent !== true || broker.writer === undefined ? RESOLVED : broker.writer.durable();
    return wait === undefined ? durable : bothDone(durable, wait);
  }

  private checkSendTarget(target: Address): void {
    const broker = this.broker;
    broker.authorize(this.principal, 'write', target.canonical);
    if (target.kind === 'queue') {
      const limit = broker.queues.get(target.canonical)?.policy.maxQueueDepth ?? 0;
      if (limit > 0 && broker.queues.get(target.canonical)!.depth >= limit) {
        throw new BlazeError('LIMIT_EXCEEDED', `${target.canonical} holds its maximum of ${limit} messages`);
      }
    } else if (target.kind === 'temp-queue') {
      if (!broker.tempQueues.has(target.canonical)) throw this.deletedTemporary(target);
    } else if (target.kind === 'temp-topic') {
      if (broker.tempTopic(target.canonical) === undefined) throw this.deletedTemporary(target);
    }
  }

  private deletedTemporary(target: Address): BlazeError {
    return new BlazeError('NOT_FOUND', `temporary destination ${target.canonical} does not exist`);
  }

  private makeMessage(
    init: MessageInit,
    body: Uint8Array,
    id: string,
    address: string,
    timestamp: number,
  ): Message {
    const expiration = init.expiration;
    return {
      id,
      address,
      body,
      properties: init.properties ?? NO_PROPERTIES,
      persistent: init.persistent === true,
      priority: priorityOf(init.priority),
      expiration: expiration !== undefined && expiration > 0 ? expiration : 0,
      timestamp,
      correlationId: init.correlationId,
      replyTo: init.replyTo,
      groupId: init.groupId,
      contentType: init.contentType,
      producerConnectionId: this.id,
      originalAddress: undefined,
    };
  }

  // --- subscribe ------------------------------------------------------------------------------------

  subscribe(options: SubscribeOptions, sink: DeliverySink): Subscription {
    this.checkOpen();
    if (!ACK_MODES.has(options.ackMode))
      throw new BlazeError('BAD_REQUEST', `unknown ack mode '${options.ackMode}'`);
    if (!Number.isInteger(options.prefetch) || options.prefetch < 1) {
      throw new BlazeError('BAD_REQUEST', `prefetch must be an integer >= 1, got ${options.prefetch}`);
    }
    const broker = this.broker;
    const address = parseAddress(options.address, { allowWildcards: true });
    const selectorText = options.selector?.trim() ? options.selector : undefined;
    const selector = selectorText === undefined ? undefined : broker.compileSelector(selectorText);
    broker.authorize(this.principal, 'read', address.canonical);
    const frozen: Readonly<SubscribeOptions> = Object.freeze({ ...options, address: address.canonical });
    const id = `${this.id}/${++this.subscriptionSeq}`;

    if (options.durableName !== undefined) {
      return this.subscribeDurable(id, frozen, sink, address, selectorText);
    }
    if (options.shareGroup !== undefined) {
      if (address.kind !== 'topic' || options.noLocal === true || options.shareGroup.length === 0)
        throw new BlazeError(
          'BAD_REQUEST',
          'a shared subscription needs a group and a topic, without noLocal',
        );
      const consumer = subscribeShared(broker, this, id, frozen, sink, address, selector);
      this.subscriptions.add(consumer as BaseSubscription<unknown>);
      return consumer;
    }
    switch (address.kind) {
      case 'queue': {
        const queue = broker.queue(address.name);
        const consumer = new QueueConsumer(id, frozen, sink, this, broker, queue, selector);
        this.subscriptions.add(consumer as BaseSubscription<unknown>);
        queue.addConsumer(consumer);
        return consumer;
      }
      case 'temp-queue': {
        const queue = broker.tempQueues.get(address.canonical);
        if (queue === undefined) throw this.deletedTemporary(address);
        // JMS: only the connection that created a temporary destination may consume from it.
        if (queue.owner !== this.id)
          throw new BlazeError('FORBIDDEN', `${address.canonical} belongs to another connection`);
        const consumer = new QueueConsumer(id, frozen, sink, this, broker, queue, selector);
        this.subscriptions.add(consumer as BaseSubscription<unknown>);
        queue.addConsumer(consumer);
        return consumer;
      }
      case 'topic': {
        const policy = broker.policyOf('topic', address.name);
        const subscriber = new TopicSubscriber(id, frozen, sink, this, broker, policy, selector, (s) => {
          broker.topicIndex.remove(address.name, s);
          broker.topicSubscribers.delete(s);
        });
        broker.topicIndex.add(address.name, subscriber);
        broker.topicSubscribers.add(subscriber);
        this.subscriptions.add(subscriber as BaseSubscription<unknown>);
        return subscriber;
      }
      case 'temp-topic': {
        const topic = broker.tempTopic(address.canonical);
        if (topic === undefined) throw this.deletedTemporary(address);
        if (topic.owner !== this.id)
          throw new BlazeError('FORBIDDEN', `${address.canonical} belongs to another connection`);
        const policy = broker.policyOf('temp-topic', address.name);
        const subscriber = new TopicSubscriber(id, frozen, sink, this, broker, policy, selector, (s) => {
          topic.subscribers.delete(s);
          broker.topicSubscribers.delete(s);
        });
        topic.subscribers.add(subscriber);
        broker.topicSubscribers.add(subscriber);
        this.subscriptions.add(subscriber as BaseSubscription<unknown>);
        return subscriber;
      }
    }
  }

  private subscribeDurable(
    id: string,
    options: Readonly<SubscribeOptions>,
    sink: DeliverySink,
    address: Address,
    selectorText: string | undefined,
  ): Subscription {
    const broker = this.broker;
    const name = options.durableName!;
    if (this.clientId === undefined) {
      throw new BlazeError('BAD_REQUEST', 'a durable subscription needs a client id on the connection');
    }
    if (address.kind !== 'topic') throw new BlazeError('BAD_REQUEST', 'durable subscriptions are for topics');
    if (name.length === 0) throw new BlazeError('BAD_REQUEST', 'empty durable subscription name');
    const key = durableKey(this.clientId, name);
    const noLocal = options.noLocal === true;
    let durable = broker.durables.get(key);
    if (durable?.active !== undefined) {
      throw new BlazeError(
        'CONFLICT',
        `durable subscription '${name}' of '${this.clientId}' is already active`,
      );
    }
    // JMS 6.11.1: subscribing with a different topic, selector or noLocal replaces the subscription.
    if (durable !== undefined && !durable.sameDefinition(address.canonical, selectorText, noLocal)) {
      broker.removeDurable(durable);
      durable = undefined;
    }
    if (durable === undefined) {
      durable = broker.createDurable(
        {
          queue: key,
          clientId: this.clientId,
          name,
          address: address.canonical,
          selector: selectorText,
          noLocal,
        },
        true,
      );
    }
    const d = durable;
    const consumer = new QueueConsumer(id, options, sink, this, broker, d.queue, undefined, () => d.detach());
    d.attach(consumer, this.id);
    this.subscriptions.add(consumer as BaseSubscription<unknown>);
    d.queue.addConsumer(consumer);
    return consumer;
  }

  unsubscribeDurable(name: string): void {
    this.checkOpen();
    if (this.clientId === undefined) {
      throw new BlazeError('BAD_REQUEST', 'a durable subscription needs a client id on the connection');
    }
    const durable = this.broker.durables.get(durableKey(this.clientId, name));
    if (durable === undefined) throw new BlazeError('NOT_FOUND', `no durable subscription '${name}'`);
    // JMS: unsubscribing while a subscriber is active is an error.
    if (durable.active !== undefined)
      throw new BlazeError('CONFLICT', `durable subscription '${name}' is active`);
    this.broker.removeDurable(durable);
  }

  // --- browse -------------------------------------------------------------------------------------

  browse(text: string, options: { selector?: string; max?: number } = {}): Message[] {
    this.checkOpen();
    const broker = this.broker;
    const address = parseAddress(text);
    if (address.kind !== 'queue' && address.kind !== 'temp-queue') {
      throw new BlazeError('INVALID_ADDRESS', `only queues can be browsed, not ${address.canonical}`);
    }
    const max = options.max ?? DEFAULT_BROWSE_MAX;
    if (!Number.isInteger(max) || max < 0) {
      throw new BlazeError('BAD_REQUEST', `browse max must be an integer >= 0, got ${max}`);
    }
    const selectorText = options.selector?.trim() ? options.selector : undefined;
    const selector = selectorText === undefined ? undefined : broker.compileSelector(selectorText);
    broker.authorize(this.principal, 'read', address.canonical);
    const queue =
      address.kind === 'queue'
        ? broker.queues.get(address.canonical)
        : broker.tempQueues.get(address.canonical);
    if (queue === undefined) return [];
    // JMS: only the connection that created a temporary queue may consume (hence browse) it.
    if (queue.owner !== undefined && queue.owner !== this.id)
      throw new BlazeError('FORBIDDEN', `${address.canonical} belongs to another connection`);
    return queue.browse(max, selector).map((e) => e.message);
  }

  // --- transactions ---------------------------------------------------------------------------------

  begin(txId: string): void {
    this.checkOpen();
    if (this.transactions.has(txId) || this.broker.xa.boundTransaction(this.id, txId) !== undefined)
      throw new BlazeError('CONFLICT', `transaction '${txId}' already begun`);
    this.transactions.set(txId, new Transaction(txId));
  }

  commit(txId: string): Promise<void> {
    try {
      this.checkOpen();
      const tx = this.localTransaction(txId);
      this.transactions.delete(txId);
      return commitTransaction(this.broker, tx);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  rollback(txId: string): void {
    this.checkOpen();
    const tx = this.localTransaction(txId);
    this.transactions.delete(txId);
    tx.returnSettlements();
  }

  // --- XA (core/xa.ts) -------------------------------------------------------------------------------

  xaStart(xid: Xid, txId: string, flags?: number): void {
    this.checkOpen();
    if (this.transactions.has(txId))
      throw new BlazeError('CONFLICT', `transaction id '${txId}' is a local transaction`);
    this.broker.xa.start(this.id, xid, txId, flags);
  }

  xaEnd(xid: Xid, flags?: number): void {
    this.checkOpen();
    this.broker.xa.end(this.id, xid, flags);
  }

  xaPrepare(xid: Xid): Promise<'prepared' | 'readonly'> {
    try {
      this.checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.broker.xa.prepare(xid);
  }

  xaCommit(xid: Xid, onePhase: boolean): Promise<void> {
    try {
      this.checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.broker.xa.commit(xid, onePhase);
  }

  xaRollback(xid: Xid): Promise<void> {
    try {
      this.checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.broker.xa.rollback(xid);
  }

  xaRecover(): Xid[] {
    this.checkOpen();
    return this.broker.xa.recover();
  }

  // --- temporaries and lifecycle --------------------------------------------------------------------

  createTemporary(kind: 'queue' | 'topic'): string {
    this.checkOpen();
    const address = this.broker.createTemporary(this, kind);
    this.temporaries.add(address);
    return address;
  }

  /**
   * Deletes a temporary destination of this connection before the connection ends (api.ts). JMS 1.1
   * section 4.4.3 / 2.0 TemporaryQueue.delete: deleting one that still has consumers is an error
   * (CONFLICT here; the native protocol reports TEMPORARY_IN_USE).
   */
  deleteTemporary(text: string): void {
    this.checkOpen();
    const address = parseAddress(text);
    if (address.kind !== 'temp-queue' && address.kind !== 'temp-topic') {
      throw new BlazeError('INVALID_ADDRESS', `${address.canonical} is not a temporary destination`);
    }
    const broker = this.broker;
    const canonical = address.canonical;
    if (!this.temporaries.has(canonical)) {
      const exists = broker.tempQueues.has(canonical) || broker.tempTopic(canonical) !== undefined;
      // JMS: only the connection that created a temporary destination may delete it.
      if (exists) throw new BlazeError('FORBIDDEN', `${canonical} belongs to another connection`);
      throw this.deletedTemporary(address);
    }
    const consumers =
      address.kind === 'temp-queue'
        ? (broker.tempQueues.get(canonical)?.consumers.length ?? 0)
        : (broker.tempTopic(canonical)?.subscribers.size ?? 0);
    if (consumers > 0) {
      throw new BlazeError('CONFLICT', `${canonical} has ${consumers} consumer(s): close them first`);
    }
    broker.deleteTemporary(canonical);
    this.temporaries.delete(canonical);
  }

  /**
   * An operator closes the connection: the protocol session is asked to end its client properly
   * (ConnectOptions.onEvict); whatever it left open is closed here, subscriptions first so that their
   * sinks learn why (an HTTP long poll ends at once instead of at its timeout).
   */
  evict(reason: string): void {
    if (this.closed) return;
    const onEvict = this.options.onEvict;
    if (onEvict !== undefined) {
      try {
        onEvict(reason);
      } catch (err) {
        this.broker.log.warn({ err, conn: this.id }, 'onEvict threw');
      }
    }
    if (this.closed) return;
    for (const sub of [...this.subscriptions]) sub.closeByCore(reason);
    this.close();
  }

  /** Live subscriptions, for the management API. */
  listSubscriptions(): readonly BaseSubscription<unknown>[] {
    return [...this.subscriptions];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Subscriptions first, so messages coming back from rolled-back transactions are not handed to them.
    for (const sub of [...this.subscriptions]) sub.close();
    for (const tx of this.transactions.values()) tx.returnSettlements();
    this.transactions.clear();
    // XA branches it worked in roll back unless prepared (those belong to the broker now).
    this.broker.xa.connectionClosed(this.id);
    for (const address of this.temporaries) this.broker.deleteTemporary(address);
    this.temporaries.clear();
    this.broker.forgetConnection(this);
  }

  stats(): ConnectionStats {
    let inFlight = 0;
    for (const s of this.subscriptions) inFlight += s.inFlight;
    return {
      id: this.id,
      clientId: this.clientId,
      user: this.principal.user,
      protocol: this.options.protocol,
      remoteAddress: this.options.remoteAddress,
      connectedAt: this.connectedAt,
      subscriptions: this.subscriptions.size,
      inFlight,
      transactions: this.transactions.size,
    };
  }
}
