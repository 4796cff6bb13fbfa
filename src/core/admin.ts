/**
 * Operator actions and views over the core, for the management API (src/admin/management): they need no
 * client connection. Authorization is the caller's business (the `admin` permission, checked with
 * `authorize` before each call); nothing here checks it again.
 *
 * Queues are addressed by their bare name (`orders` = `queue://orders`); temporary queues, durable
 * subscription queues and shared-subscription queues are not queues here (they belong to a connection or
 * a subscription and are shown as subscriptions).
 */
import { BlazeError } from '../util/errors.js';
import { parseAddress } from './address.js';
import type { AckMode, Principal } from './api.js';
import type { Broker, ConnectionStats, TopicStats } from './broker.js';
import type { Connection } from './connection.js';
import { durableKey } from './durable.js';
import type { Message, MessageInit } from './message.js';
import type { Queue, QueueStats } from './queue.js';
import { QueueConsumer } from './queue-consumer.js';
import type { BaseSubscription } from './subscription.js';
import { TopicSubscriber } from './topic-subscriber.js';
import type { PreparedBranchInfo } from './xa.js';

export interface QueueInfo extends QueueStats {
  readonly name: string;
  /** Age of the pending message enqueued first; null when nothing is pending. */
  readonly oldestMessageAgeMs: number | null;
}

/** One row of the address listing: every queue, topic and temporary destination the broker knows now. */
export interface AddressInfo {
  readonly address: string;
  readonly kind: 'queue' | 'topic' | 'temp-queue' | 'temp-topic';
  /** Queues: pending + in flight. Topics: undefined (they hold nothing; subscriptions do). */
  readonly depth?: number;
  /** Queue consumers, or subscriptions matching the topic. */
  readonly consumers: number;
}

export interface TopicInfo extends TopicStats {
  readonly name: string;
}

export interface BrowsedMessage {
  readonly message: Message;
  /** Deliveries so far that were not acknowledged. */
  readonly deliveryCount: number;
  /** The next delivery will be flagged redelivered. */
  readonly redelivered: boolean;
}

export interface SubscriptionInfo {
  readonly id: string;
  /** Undefined for an inactive durable subscription. */
  readonly connectionId?: string;
  readonly address: string;
  readonly durable: boolean;
  readonly clientId?: string;
  /** Durable subscription name. */
  readonly name?: string;
  readonly active: boolean;
  readonly ackMode?: AckMode;
  /**
   * Messages waiting for this subscription: its topic buffer, its durable or shared queue, or, for a
   * plain queue consumer, the queue's pending messages (which any consumer of the queue may take).
   */
  readonly pending: number;
  readonly inFlight: number;
  readonly selector?: string;
  readonly shareGroup?: string;
}

export interface CoreTotals {
  readonly connections: number;
  readonly queues: number;
  readonly topics: number;
  readonly durables: number;
  /** Messages held in queues and durable subscriptions (pending + in flight). */
  readonly messages: number;
  /** Messages accepted into queues and durable subscriptions since start (plus recovered ones). */
  readonly enqueued: number;
  readonly dequeued: number;
}

/** A prepared (in-doubt) XA branch as the management API lists it. */
export interface TransactionInfo extends PreparedBranchInfo {
  /** Now minus preparedAt, by the broker's clock (so that remote tools need not trust their own). */
  readonly ageMs: number;
}

export interface PreparedTransactionStats {
  readonly count: number;
  /** Age of the branch prepared first; 0 when there is none. */
  readonly oldestAgeMs: number;
}

export interface BrowseOptions {
  max?: number;
  selector?: string;
}

const QUEUE_PREFIX = 'queue://';

export class CoreAdmin {
  constructor(private readonly broker: Broker) {}

  /** Whether `principal` holds `admin` on `address` (`*` for broker-wide views and actions). */
  allowed(principal: Principal, address: string): boolean {
    const a = this.broker.authorizer;
    return a === undefined || a.allowed(principal, 'admin', address);
  }

  /** Throws FORBIDDEN unless `allowed`. */
  authorize(principal: Principal, address: string): void {
    this.broker.authorize(principal, 'admin', address);
  }

  // --- queues ----------------------------------------------------------------------------------------

  queues(): QueueInfo[] {
    const now = this.broker.clock.now();
    return [...this.broker.queues.values()].map((q) => queueInfo(q, now));
  }

  queue(name: string): QueueInfo | undefined {
    const q = this.broker.queues.get(QUEUE_PREFIX + name);
    return q === undefined ? undefined : queueInfo(q, this.broker.clock.now());
  }

  browse(name: string, options: BrowseOptions = {}): BrowsedMessage[] {
    const queue = this.existing(name);
    const max = options.max ?? 100;
    const selectorText = options.selector?.trim() ? options.selector : undefined;
    const selector = selectorText === undefined ? undefined : this.broker.compileSelector(selectorText);
    return queue.browse(max, selector).map((e) => ({
      message: e.message,
      deliveryCount: e.deliveryCount,
      redelivered: e.deliveryCount > 0 || e.maybeDelivered,
    }));
  }

  /** Removes every pending message; returns how many. In-flight ones stay with their consumers. */
  purge(name: string): number {
    this.broker.checkOpen();
    return this.existing(name).purge().length;
  }

  /**
   * Deletes the queue and its messages: consumers are ended first (their unacked messages come back and
   * are dropped with the rest), so nothing is left in the store either. Sending to it later creates it
   * again (auto-creation).
   */
  deleteQueue(name: string): void {
    this.broker.checkOpen();
    const queue = this.existing(name);
    for (const c of [...queue.consumers]) {
      if (c instanceof QueueConsumer) c.closeByCore(`queue ${queue.address} deleted by an administrator`);
    }
    queue.purge();
    queue.delete();
    this.broker.queues.delete(queue.key);
  }

  /** Removes one pending message; NOT_FOUND when it is not pending (absent, or being delivered). */
  deleteMessage(name: string, id: string): void {
    this.broker.checkOpen();
    this.take(this.existing(name), id);
  }

  /**
   * Moves one pending message to `to` (a queue or topic), keeping its id, timestamp and headers, as
   * dead-lettering does. The dequeue and the enqueue reach the store in the same batch (one turn), so a
   * crash never keeps both or neither.
   */
  moveMessage(name: string, id: string, to: string): void {
    this.broker.checkOpen();
    const target = parseAddress(to);
    if (target.kind !== 'queue' && target.kind !== 'topic') {
      throw new BlazeError('INVALID_ADDRESS', `messages can be moved to a queue or a topic, not ${to}`);
    }
    const queue = this.existing(name);
    if (target.canonical === queue.address) {
      throw new BlazeError('BAD_REQUEST', `${to} is the queue the message is on`);
    }
    const message = this.take(queue, id);
    const flow = this.broker.flow;
    const outer = flow.begin();
    // An operator's move is not held back by memory limits; the wait (if any) is ignored.
    this.broker.route(target, { ...message, address: target.canonical });
    void flow.end(outer);
  }

  private take(queue: Queue, id: string): Message {
    let seen = false;
    const removed = queue.purge((m) => {
      if (seen || m.id !== id) return false;
      seen = true;
      return true;
    });
    const message = removed[0];
    if (message === undefined) {
      throw new BlazeError('NOT_FOUND', `no pending message '${id}' on ${queue.address}`);
    }
    return message;
  }

  private existing(name: string): Queue {
    const q = this.broker.queues.get(QUEUE_PREFIX + name);
    if (q === undefined) throw new BlazeError('NOT_FOUND', `no queue '${name}'`);
    return q;
  }

  /**
   * Sends as `principal` (authorized as `write` like any producer) through a short-lived connection and
   * returns the broker-assigned id; resolves once accepted (durable, for a persistent message).
   */
  async send(principal: Principal, init: MessageInit, remoteAddress?: string): Promise<string> {
    const conn = this.broker.connect({
      principal,
      protocol: 'admin',
      ...(remoteAddress === undefined ? {} : { remoteAddress }),
    });
    try {
      const { id, accepted } = conn.sendForId(init);
      await accepted;
      return id;
    } finally {
      conn.close();
    }
  }

  // --- addresses ------------------------------------------------------------------------------------

  /** Queues, topics published to (bounded, see Broker.route) and live temporary destinations. */
  addresses(): AddressInfo[] {
    const out: AddressInfo[] = [];
    for (const q of this.broker.queues.values()) {
      out.push({ address: q.address, kind: 'queue', depth: q.depth, consumers: q.consumers.length });
    }
    for (const q of this.broker.tempQueues.values()) {
      out.push({ address: q.address, kind: 'temp-queue', depth: q.depth, consumers: q.consumers.length });
    }
    for (const t of this.broker.topicStats()) {
      out.push({ address: t.address, kind: 'topic', consumers: t.subscribers });
    }
    for (const [address, t] of this.broker.tempTopics) {
      out.push({ address, kind: 'temp-topic', consumers: t.subscribers.size });
    }
    return out;
  }

  // --- topics and subscriptions ----------------------------------------------------------------------

  /** Topics published to since start (bounded: see Broker.route), with their current subscribers. */
  topics(): TopicInfo[] {
    return this.broker.topicStats().map((t) => ({ ...t, name: t.address.slice('topic://'.length) }));
  }

  /** Every live subscription, and the durable subscriptions that have no subscriber attached. */
  subscriptions(): SubscriptionInfo[] {
    const out: SubscriptionInfo[] = [];
    for (const conn of this.broker.connections.values()) {
      for (const sub of conn.listSubscriptions()) out.push(subscriptionInfo(conn, sub));
    }
    for (const d of this.broker.durables.values()) {
      if (d.active !== undefined) continue;
      const r = d.record;
      out.push({
        id: r.queue,
        address: r.address,
        durable: true,
        clientId: r.clientId,
        name: r.name,
        active: false,
        pending: d.queue.pending.length,
        inFlight: d.queue.inFlight,
        ...(r.selector === undefined ? {} : { selector: r.selector }),
      });
    }
    return out;
  }

  /** Removes an inactive durable subscription and its messages; CONFLICT while a subscriber is attached. */
  deleteDurable(clientId: string, name: string): void {
    this.broker.checkOpen();
    const durable = this.broker.durables.get(durableKey(clientId, name));
    if (durable === undefined) {
      throw new BlazeError('NOT_FOUND', `no durable subscription '${name}' of client '${clientId}'`);
    }
    // JMS: a durable subscription with an active subscriber cannot be removed; close the connection first.
    if (durable.active !== undefined) {
      throw new BlazeError('CONFLICT', `durable subscription '${name}' of '${clientId}' is active`);
    }
    this.broker.removeDurable(durable);
  }

  // --- connections -----------------------------------------------------------------------------------

  connections(): ConnectionStats[] {
    return [...this.broker.connections.values()].map((c) => c.stats());
  }

  /** Ends a connection as an operator: its protocol session tells the client why (ConnectOptions.onEvict). */
  closeConnection(id: string, reason = 'closed by an administrator'): void {
    const conn = this.broker.connections.get(id);
    if (conn === undefined) throw new BlazeError('NOT_FOUND', `no connection '${id}'`);
    conn.evict(reason);
  }

  // --- XA transactions -----------------------------------------------------------------------------

  /** Prepared XA branches, longest in doubt first (core/xa.ts). */
  transactions(): TransactionInfo[] {
    const now = this.broker.clock.now();
    return this.broker.xa.preparedBranches().map((b) => ({ ...b, ageMs: Math.max(0, now - b.preparedAt) }));
  }

  /** Count and oldest age of the prepared branches, without building the listing (metrics). */
  transactionStats(): PreparedTransactionStats {
    const { count, oldestPreparedAt } = this.broker.xa.preparedSummary();
    const age = oldestPreparedAt === undefined ? 0 : Math.max(0, this.broker.clock.now() - oldestPreparedAt);
    return { count, oldestAgeMs: age };
  }

  /**
   * Commits or rolls back a prepared XA branch by its xidKey, as an operator: a heuristic decision in XA
   * terms [XA §2.3.3], hence the warning naming who took it. NOT_FOUND for an unknown key and for a
   * branch that is not prepared. Resolves once the outcome is durable.
   */
  async completeTransaction(key: string, outcome: 'commit' | 'rollback', byUser: string): Promise<void> {
    this.broker.checkOpen();
    await this.broker.xa.resolvePrepared(key, outcome);
    // Logged once durable: had the store failed, the branch would still be prepared after a restart.
    this.broker.log.warn(
      { xid: key, outcome, user: byUser },
      `heuristic ${outcome} of prepared XA branch xid(${key}) by operator '${byUser}'`,
    );
  }

  // --- totals ----------------------------------------------------------------------------------------

  totals(): CoreTotals {
    const b = this.broker;
    let messages = 0;
    let enqueued = 0;
    let dequeued = 0;
    const add = (q: Queue) => {
      messages += q.depth;
      enqueued += q.enqueued;
      dequeued += q.dequeued;
    };
    for (const q of b.queues.values()) add(q);
    for (const d of b.durables.values()) add(d.queue);
    return {
      connections: b.connections.size,
      queues: b.queues.size,
      topics: b.topicStats().length,
      durables: b.durables.size,
      messages,
      enqueued,
      dequeued,
    };
  }
}

function queueInfo(q: Queue, now: number): QueueInfo {
  const oldest = q.oldestPendingTimestamp();
  return {
    ...q.stats(),
    name: q.address.startsWith(QUEUE_PREFIX) ? q.address.slice(QUEUE_PREFIX.length) : q.address,
    oldestMessageAgeMs: oldest === undefined ? null : Math.max(0, now - oldest),
  };
}

function subscriptionInfo(conn: Connection, sub: BaseSubscription<unknown>): SubscriptionInfo {
  const o = sub.options;
  const pending =
    sub instanceof TopicSubscriber
      ? sub.buffered
      : sub instanceof QueueConsumer
        ? sub.queue.pending.length
        : 0;
  return {
    id: sub.id,
    connectionId: conn.id,
    address: o.address,
    durable: o.durableName !== undefined,
    ...(conn.clientId === undefined ? {} : { clientId: conn.clientId }),
    ...(o.durableName === undefined ? {} : { name: o.durableName }),
    active: true,
    ackMode: o.ackMode,
    pending,
    inFlight: sub.inFlight,
    ...(o.selector === undefined ? {} : { selector: o.selector }),
    ...(o.shareGroup === undefined ? {} : { shareGroup: o.shareGroup }),
  };
}
