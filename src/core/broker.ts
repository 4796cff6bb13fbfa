/**
 * The broker core: owns destinations, connections and the store writer, and is the CoreContext that
 * queues and subscriptions call back into. Protocol-facing operations live in connection.ts.
 */
import { BlazeError } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/logger.js';
import {
  type Address,
  type AddressKind,
  isTemporaryKind,
  parseAddress,
  parseSendAddress,
} from './address.js';
import { CoreAdmin } from './admin.js';
import type { Authorizer, BrokerCore, ConnectOptions, Permission, Principal } from './api.js';
import { Connection } from './connection.js';
import type { CoreContext, DeadLetterReason } from './context.js';
import { DurableSubscription } from './durable.js';
import type { KeyValueNamespace } from './kv.js';
import { FlowCollector, MemoryMeter } from './memory.js';
import type { Message } from './message.js';
import { Pager, type PagingOptions, type PagingStats, pageSourceOf } from './paging.js';
import {
  type CorePolicy,
  type DestinationPolicy,
  deadLetterAddressFor,
  isDeadLetterAddress,
  PolicyResolver,
} from './policy.js';
import { ProtocolState } from './protocol-state.js';
import { Queue, type QueueStats } from './queue.js';
import type { QueueConsumer } from './queue-consumer.js';
import type { RetainedStore } from './retained.js';
import { type Clock, type Scheduler, systemClock, systemScheduler, type TimerHandle } from './scheduler.js';
import { compileSelector, type SelectorPredicate } from './selector/index.js';
import type { SharedSubscription } from './shared.js';
import type { DurableRecord, MessageStore, RecoveredState } from './store.js';
import { StoreWriter } from './store-writer.js';
import type { TopicSubscriber, TopicTarget } from './topic-subscriber.js';
import { TopicIndex } from './wildcard.js';
import { XaRegistry } from './xa.js';

export interface BrokerCoreOptions {
  /** Where persistent messages and durable subscriptions live; omitted = nothing survives a restart. */
  store?: MessageStore;
  /** Asked on every send (write), subscribe (read) and createTemporary (admin). Default: allow all. */
  authorizer?: Authorizer;
  policy?: Partial<CorePolicy>;
  clock?: Clock;
  scheduler?: Scheduler;
  logger?: Logger;
  /** Selector compiler; defaults to the JMS SQL-92 compiler in ./selector. */
  compileSelector?: (text: string) => SelectorPredicate;
  /** Prefix of broker-assigned message ids (default `ID:<random>`); ids are `${prefix}:${n}`. */
  idPrefix?: string;
  /** Retained topics at most (default core/retained.ts DEFAULT_MAX_RETAINED). */
  maxRetained?: number;
  /**
   * Paging persistent messages out of memory (core/paging.ts): on by default when the store can read
   * messages back (MessageStore.read/readSync); `false` turns it off.
   */
  paging?: PagingOptions | false;
}

export interface TopicStats {
  readonly address: string;
  readonly published: number;
  /** Subscriptions (durable or not, wildcards included) that currently match this topic. */
  readonly subscribers: number;
}

export interface DurableStats extends QueueStats {
  readonly clientId: string;
  readonly name: string;
  readonly active: boolean;
}

export interface ConnectionStats {
  readonly id: string;
  readonly clientId?: string;
  readonly user: string;
  readonly protocol: string;
  readonly remoteAddress?: string;
  /** Epoch ms when the connection was made. */
  readonly connectedAt: number;
  readonly subscriptions: number;
  /** Deliveries handed over and not yet acknowledged. */
  readonly inFlight: number;
  readonly transactions: number;
}

/** Memory held by queues and topic buffers (core/memory.ts). */
export interface MemoryStats {
  /** Bytes counted now. */
  readonly used: number;
  readonly peak: number;
  /** `globalMemoryLimit`; 0 = none. */
  readonly limit: number;
  /** True while queue producers wait for the global limit. */
  readonly blocked: boolean;
  /** Paging counters; absent when the core does not page (core/paging.ts). */
  readonly paging?: PagingStats;
}

export interface CoreStats {
  readonly memory: MemoryStats;
  readonly queues: readonly QueueStats[];
  readonly topics: readonly TopicStats[];
  readonly durables: readonly DurableStats[];
  readonly connections: readonly ConnectionStats[];
}

/** The core as created by createBrokerCore: BrokerCore plus management hooks. */
export interface BlazeCore extends BrokerCore {
  stats(): CoreStats;
  /** Runs the expiry sweep now (also runs every `expirySweepIntervalMs`). */
  sweepExpired(): void;
  /** Retained messages (MQTT), stored with the core's store and recovered with it. */
  readonly retained: RetainedStore;
  /** Durable key/value records for protocol state (core/kv.ts), e.g. `kv('mqtt-sessions')`. */
  kv(namespace: string): KeyValueNamespace;
  /** Operator views and actions for the management API (core/admin.ts). */
  readonly admin: CoreAdmin;
}

const MAX_CACHED_ADDRESSES = 10_000;

interface TempTopic {
  readonly owner: string;
  readonly subscribers: Set<TopicSubscriber>;
}

export class Broker implements BlazeCore, CoreContext {
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly writer: StoreWriter | undefined;
  readonly log: Logger;
  readonly policies: PolicyResolver;
  readonly authorizer: Authorizer | undefined;
  readonly compileSelector: (text: string) => SelectorPredicate;
  private readonly protocolState: ProtocolState;
  readonly memory: MemoryMeter;
  /** Set when persistent messages page out of memory (core/paging.ts). */
  readonly pager: Pager | undefined;
  readonly flow = new FlowCollector();
  /** XA branches (core/xa.ts): broker-wide, since a prepared branch outlives its connection. */
  readonly xa: XaRegistry = new XaRegistry(this);
  readonly admin: CoreAdmin = new CoreAdmin(this);

  readonly queues = new Map<string, Queue>();
  readonly tempQueues = new Map<string, Queue>();
  readonly tempTopics = new Map<string, TempTopic>();
  readonly topicIndex = new TopicIndex<TopicTarget>();
  readonly topicSubscribers = new Set<TopicSubscriber>();
  readonly durables = new Map<string, DurableSubscription>();
  /** Shared subscription groups by sharedKey (core/shared.ts); each lives while it has members. */
  readonly sharedGroups = new Map<string, SharedSubscription>();
  private readonly published = new Map<string, { count: number }>();
  readonly connections = new Map<string, Connection>();
  readonly clientIds = new Map<string, Connection>();
  private readonly sendTargets = new Map<string, readonly Address[]>();

  private readonly idPrefix: string;
  private idSeq = 0;
  private connectionSeq = 0;
  private tempSeq = 0;
  readonly instance: string;
  closed = false;
  private sweepTimer: TimerHandle | undefined;

  constructor(options: BrokerCoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.log = options.logger ?? silentLogger;
    this.writer = options.store === undefined ? undefined : new StoreWriter(options.store, this.log);
    this.policies = new PolicyResolver(options.policy);
    this.memory = new MemoryMeter(this.policies.base.globalMemoryLimit);
    const source = options.store === undefined ? undefined : pageSourceOf(options.store);
    if (source !== undefined && options.paging !== false) this.pager = new Pager(source, options.paging);
    this.authorizer = options.authorizer;
    this.compileSelector = options.compileSelector ?? compileSelector;
    this.instance = globalThis.crypto.randomUUID().slice(0, 8);
    this.idPrefix = options.idPrefix ?? `ID:${this.instance}`;
    this.protocolState = new ProtocolState(this.writer, {
      clock: this.clock,
      log: this.log,
      ...(options.maxRetained === undefined ? {} : { maxRetained: options.maxRetained }),
    });
    this.armSweep();
  }

  // --- BrokerCore ---------------------------------------------------------------------------------

  connect(options: ConnectOptions): Connection {
    this.checkOpen();
    if (options.clientId !== undefined && this.clientIds.has(options.clientId)) {
      // JMS: a client id identifies one live connection (ActiveMQ InvalidClientIDException).
      throw new BlazeError('CONFLICT', `client id '${options.clientId}' is already connected`);
    }
    const conn = new Connection(`c${++this.connectionSeq}`, options, this);
    this.connections.set(conn.id, conn);
    if (options.clientId !== undefined) this.clientIds.set(options.clientId, conn);
    return conn;
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweepTimer?.cancel();
    this.sweepTimer = undefined;
    await this.writer?.drain();
  }

  get retained(): RetainedStore {
    return this.protocolState.retained;
  }

  kv(namespace: string): KeyValueNamespace {
    return this.protocolState.kv(namespace);
  }

  // --- helpers used by connections, queues and subscriptions ----------------------------------------

  checkOpen(): void {
    if (this.closed) throw new BlazeError('CLOSED', 'broker is shut down');
  }

  nextMessageId(): string {
    // Base 36, not 10: V8 turns a number into decimal through its number-string cache and allocates
    // that string in the old space, so one id per message filled the old space with garbage that only
    // a full GC frees (~+12 MB of broker RSS in MQTT W1, docs/PERFORMANCE.md); radix 36 is not cached.
    return `${this.idPrefix}:${(++this.idSeq).toString(36)}`;
  }

  nextTemporaryName(connection: string): string {
    return `${this.instance}.${connection}.${++this.tempSeq}`;
  }

  /** Parsed, de-duplicated targets of a send address; cached because producers reuse addresses. */
  sendTargetsOf(text: string): readonly Address[] {
    let targets = this.sendTargets.get(text);
    if (targets === undefined) {
      targets = parseSendAddress(text);
      if (this.sendTargets.size >= MAX_CACHED_ADDRESSES) this.sendTargets.clear();
      this.sendTargets.set(text, targets);
    }
    return targets;
  }

  authorize(principal: Principal, permission: Permission, address: string): void {
    if (this.authorizer === undefined || this.authorizer.allowed(principal, permission, address)) return;
    throw new BlazeError('FORBIDDEN', `user '${principal.user}' may not ${permission} ${address}`);
  }

  policyOf(kind: AddressKind, name: string): Readonly<DestinationPolicy> {
    return this.policies.resolve(kind, name);
  }

  /** The queue named `name`, created on first use (ActiveMQ auto-creation). */
  queue(name: string): Queue {
    const canonical = `queue://${name}`;
    let q = this.queues.get(canonical);
    if (q === undefined) {
      q = new Queue(canonical, canonical, this.policyOf('queue', name), true, this);
      this.queues.set(canonical, q);
    }
    return q;
  }

  /** Delivers a message to one (already validated and authorized) destination. */
  route(target: Address, message: Message): void {
    switch (target.kind) {
      case 'queue':
        // By canonical address first: `queue(name)` builds the key string, on every message.
        (this.queues.get(target.canonical) ?? this.queue(target.name)).add(message);
        return;
      case 'topic': {
        let p = this.published.get(target.canonical);
        if (p === undefined) {
          // Publish counters are statistics only; bounded so that a stream of one-off topic names
          // (MQTT device ids...) cannot grow memory without limit.
          if (this.published.size >= MAX_CACHED_ADDRESSES) this.published.clear();
          p = { count: 0 };
          this.published.set(target.canonical, p);
        }
        p.count++;
        const targets = this.topicIndex.match(target.name);
        for (let i = 0; i < targets.length; i++) targets[i]!.offer(message);
        return;
      }
      case 'temp-queue':
        // A temporary destination deleted between a transactional send and its commit loses the message.
        this.tempQueues.get(target.canonical)?.add(message);
        return;
      case 'temp-topic': {
        const t = this.tempTopics.get(target.canonical);
        if (t !== undefined) for (const s of t.subscribers) s.offer(message);
        return;
      }
    }
  }

  deadLetter(message: Message, policy: Readonly<DestinationPolicy>, reason: DeadLetterReason): void {
    if (!message.persistent && !policy.deadLetterNonPersistent) return;
    let source: Address;
    try {
      source = parseAddress(message.address);
    } catch {
      return;
    }
    // Temporary destinations die with their connection, and a DLQ is never dead-lettered again.
    if (isTemporaryKind(source.kind)) return;
    if (isDeadLetterAddress(policy.deadLetterAddress, message.address)) return;
    const dlq = parseAddress(deadLetterAddressFor(policy.deadLetterAddress, source.kind, source.name));
    if (dlq.canonical === message.address) return;
    const copy: Message = {
      ...message,
      address: dlq.canonical,
      // ActiveMQ clears the expiration of dead-lettered messages so the DLQ keeps them.
      expiration: 0,
      originalAddress: message.originalAddress ?? message.address,
    };
    this.log.debug({ id: message.id, from: message.address, to: dlq.canonical, reason }, 'dead-lettered');
    this.queue(dlq.name).add(copy);
  }

  createTemporary(owner: Connection, kind: 'queue' | 'topic'): string {
    const addressKind: AddressKind = kind === 'queue' ? 'temp-queue' : 'temp-topic';
    const name = this.nextTemporaryName(owner.id);
    const canonical = `${addressKind}://${name}`;
    // ActiveMQ requires admin rights to create (temporary) destinations.
    this.authorize(owner.principal, 'admin', canonical);
    if (kind === 'queue') {
      this.tempQueues.set(
        canonical,
        new Queue(canonical, canonical, this.policyOf(addressKind, name), false, this, owner.id),
      );
    } else {
      this.tempTopics.set(canonical, { owner: owner.id, subscribers: new Set() });
    }
    return canonical;
  }

  tempTopic(canonical: string): TempTopic | undefined {
    return this.tempTopics.get(canonical);
  }

  /** Deletes a temporary destination and its messages; subscriptions still on it are ended. */
  deleteTemporary(canonical: string): void {
    const q = this.tempQueues.get(canonical);
    if (q !== undefined) {
      this.tempQueues.delete(canonical);
      for (const c of [...q.consumers]) (c as QueueConsumer).closeByCore('temporary destination deleted');
      q.delete();
      return;
    }
    const t = this.tempTopics.get(canonical);
    if (t !== undefined) {
      this.tempTopics.delete(canonical);
      for (const s of [...t.subscribers]) s.closeByCore('temporary destination deleted');
    }
  }

  /** Creates (and persists) a durable subscription. */
  createDurable(record: DurableRecord, persist: boolean): DurableSubscription {
    const address = parseAddress(record.address, { allowWildcards: true });
    let selector: SelectorPredicate | undefined;
    if (record.selector !== undefined) {
      try {
        selector = this.compileSelector(record.selector);
      } catch (err) {
        // Only possible for a recovered record whose selector no longer compiles: keep its messages,
        // route nothing new to it; re-subscribing reports the selector error to the client.
        this.log.error(
          { err, subscription: record.name, clientId: record.clientId },
          'stored selector invalid',
        );
        selector = () => false;
      }
    }
    const queue = new Queue(
      record.queue,
      record.address,
      this.policyOf(address.kind, address.name),
      true,
      this,
    );
    const durable = new DurableSubscription(record, queue, selector);
    this.durables.set(record.queue, durable);
    this.topicIndex.add(address.name, durable);
    if (persist) this.writer?.add({ type: 'durable-add', record });
    return durable;
  }

  removeDurable(durable: DurableSubscription): void {
    this.durables.delete(durable.record.queue);
    this.topicIndex.remove(parseAddress(durable.record.address, { allowWildcards: true }).name, durable);
    durable.queue.delete();
    this.writer?.add({ type: 'durable-remove', queue: durable.record.queue });
  }

  forgetConnection(conn: Connection): void {
    this.connections.delete(conn.id);
    if (conn.clientId !== undefined && this.clientIds.get(conn.clientId) === conn)
      this.clientIds.delete(conn.clientId);
  }

  // --- recovery, expiry, stats --------------------------------------------------------------------

  /** Re-creates queues and durable subscriptions from the store (before any connection exists). */
  recover(state: RecoveredState): void {
    for (const record of state.durables) this.createDurable(record, false);
    this.protocolState.recoverKv(state.kv ?? []);
    for (const rq of state.queues) {
      if (this.protocolState.recoverQueue(rq)) continue;
      let queue: Queue | undefined = this.durables.get(rq.queue)?.queue;
      if (queue === undefined) {
        try {
          const address = parseAddress(rq.queue);
          if (address.kind === 'queue') queue = this.queue(address.name);
        } catch {
          // fall through to the warning
        }
      }
      if (queue === undefined) {
        this.log.warn({ queue: rq.queue, messages: rq.messages.length }, 'stored queue unknown; ignored');
        continue;
      }
      for (const m of rq.messages) queue.recover(m.message, m.deliveryCount, m.bodyBytes);
    }
    // After the queues: prepared branches lock messages recovered into them.
    this.xa.restore(state.prepared ?? [], (key) => this.durables.get(key)?.queue ?? this.queues.get(key));
  }

  private armSweep(): void {
    const every = this.policies.base.expirySweepIntervalMs;
    if (every <= 0) return;
    this.sweepTimer = this.scheduler.setTimer(() => {
      if (this.closed) return;
      try {
        this.sweepExpired();
      } catch (err) {
        this.log.error({ err }, 'expiry sweep failed');
      }
      this.armSweep();
    }, every);
  }

  sweepExpired(): void {
    const now = this.clock.now();
    for (const q of this.queues.values()) q.sweepExpired(now);
    for (const q of this.tempQueues.values()) q.sweepExpired(now);
    for (const d of this.durables.values()) d.queue.sweepExpired(now);
    for (const s of this.topicSubscribers) s.sweepExpired(now);
  }

  /** Topics published to (bounded, see `route`) with the subscriptions matching each now. */
  topicStats(): TopicStats[] {
    const topics: TopicStats[] = [];
    for (const [address, p] of this.published) {
      topics.push({
        address,
        published: p.count,
        subscribers: this.topicIndex.match(address.slice('topic://'.length)).length,
      });
    }
    return topics;
  }

  stats(): CoreStats {
    const topics = this.topicStats();
    const durables: DurableStats[] = [];
    for (const d of this.durables.values()) {
      durables.push({
        ...d.queue.stats(),
        clientId: d.record.clientId,
        name: d.record.name,
        active: d.active !== undefined,
      });
    }
    const memory = this.memory;
    return {
      memory: {
        used: memory.used,
        peak: memory.peak,
        limit: memory.limit,
        blocked: memory.over,
        ...(this.pager === undefined ? {} : { paging: this.pager.stats() }),
      },
      queues: [...this.queues.values(), ...this.tempQueues.values()].map((q) => q.stats()),
      topics,
      durables,
      connections: [...this.connections.values()].map((c) => c.stats()),
    };
  }
}
