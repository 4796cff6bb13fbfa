/**
 * Prometheus metrics with prom-client, loaded by metrics.ts on the first scrape. Each broker has its own
 * Registry, never the global one, so that several brokers in one process (tests, embedding) do not mix
 * their series. Values are read from the core and the store when scraped (`scrape()`), not pushed on the
 * message path: the hot path pays nothing for metrics.
 *
 * Per-address series are capped at `maxAddresses` (deepest queues first), so that a broker with
 * millions of one-off queues cannot make a scrape unbounded.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { JournalStats } from '../../store/journal/journal.js';
import type { BrokerMetrics, MetricsContext } from './metrics.js';

/** A counter whose value is owned elsewhere: set to the source's running total on each scrape. */
function setCounter(c: Counter<string>, labels: Record<string, string>, value: number): void {
  c.inc(labels, value);
}

export function createPrometheusMetrics(ctx: MetricsContext): BrokerMetrics {
  const registry = new Registry();
  const registers = [registry];
  const maxAddresses = ctx.maxAddresses ?? 1000;
  if (ctx.processMetrics !== false) collectDefaultMetrics({ register: registry });

  const enqueued = new Counter({
    name: 'blazemq_messages_enqueued_total',
    help: 'Messages accepted into a queue since it was created (recovered messages included)',
    labelNames: ['address'],
    registers,
  });
  const dequeued = new Counter({
    name: 'blazemq_messages_dequeued_total',
    help: 'Messages removed from a queue: acknowledged, expired, dead-lettered, purged or moved',
    labelNames: ['address'],
    registers,
  });
  const depth = new Gauge({
    name: 'blazemq_queue_depth',
    help: 'Messages held by a queue (pending + in flight)',
    labelNames: ['address'],
    registers,
  });
  const consumers = new Gauge({
    name: 'blazemq_queue_consumers',
    help: 'Consumers attached to a queue',
    labelNames: ['address'],
    registers,
  });
  const oldest = new Gauge({
    name: 'blazemq_queue_oldest_message_age_seconds',
    help: 'Age of the pending message enqueued first (0 when none is pending)',
    labelNames: ['address'],
    registers,
  });
  const published = new Counter({
    name: 'blazemq_topic_published_total',
    help: 'Messages published to a topic',
    labelNames: ['address'],
    registers,
  });
  const connections = new Gauge({
    name: 'blazemq_connections',
    help: 'Open client connections',
    labelNames: ['protocol'],
    registers,
  });
  const memory = new Gauge({
    name: 'blazemq_memory_bytes',
    help: 'Bytes held by queues and topic buffers, as counted against the memory limits',
    registers,
  });
  const memoryPeak = new Gauge({
    name: 'blazemq_memory_peak_bytes',
    help: 'Highest blazemq_memory_bytes',
    registers,
  });
  const memoryLimit = new Gauge({
    name: 'blazemq_memory_limit_bytes',
    help: 'Global memory limit (0 = none)',
    registers,
  });
  const memoryBlocked = new Gauge({
    name: 'blazemq_memory_blocked',
    help: '1 while producers wait for the global memory limit',
    registers,
  });
  const durables = new Gauge({
    name: 'blazemq_durable_subscriptions',
    help: 'Durable topic subscriptions',
    labelNames: ['state'],
    registers,
  });

  // In-doubt XA branches hold their acked messages locked: an operator alerts on these (docs/OPERATIONS.md).
  const xaPrepared = new Gauge({
    name: 'blazemq_xa_prepared_transactions',
    help: 'Prepared XA branches waiting for their coordinator to commit or roll them back',
    registers,
  });
  const xaOldest = new Gauge({
    name: 'blazemq_xa_oldest_prepared_age_seconds',
    help: 'Age of the XA branch prepared first (since the restart that recovered it, if any; 0 when none)',
    registers,
  });

  const store = ctx.storeStats === undefined ? undefined : storeMetrics(registers);

  const update = () => {
    const stats = ctx.core.stats();
    for (const m of [enqueued, dequeued, depth, consumers, oldest, published, connections, durables])
      m.reset();
    const queues = ctx.core.admin
      .queues()
      .sort((a, b) => b.depth - a.depth)
      .slice(0, maxAddresses);
    for (const q of queues) {
      const l = { address: q.address };
      setCounter(enqueued, l, q.enqueued);
      setCounter(dequeued, l, q.dequeued);
      depth.set(l, q.depth);
      consumers.set(l, q.consumers);
      oldest.set(l, q.oldestMessageAgeMs === null ? 0 : q.oldestMessageAgeMs / 1000);
    }
    for (const t of stats.topics.slice(0, maxAddresses))
      setCounter(published, { address: t.address }, t.published);
    const byProtocol = new Map<string, number>();
    for (const c of stats.connections) byProtocol.set(c.protocol, (byProtocol.get(c.protocol) ?? 0) + 1);
    for (const [protocol, n] of byProtocol) connections.set({ protocol }, n);
    let active = 0;
    for (const d of stats.durables) if (d.active) active++;
    durables.set({ state: 'active' }, active);
    durables.set({ state: 'inactive' }, stats.durables.length - active);
    memory.set(stats.memory.used);
    memoryPeak.set(stats.memory.peak);
    memoryLimit.set(stats.memory.limit);
    memoryBlocked.set(stats.memory.blocked ? 1 : 0);
    const xa = ctx.core.admin.transactionStats();
    xaPrepared.set(xa.count);
    xaOldest.set(xa.oldestAgeMs / 1000);
    if (store !== undefined && ctx.storeStats !== undefined) store(ctx.storeStats());
  };

  return {
    contentType: registry.contentType,
    scrape() {
      update();
      return registry.metrics();
    },
  };
}

/** The journal's counters (JournalStore.stats()) as series; returns the function that sets them. */
function storeMetrics(registers: Registry[]): (s: JournalStats) => void {
  const counter = (name: string, help: string) => new Counter({ name, help, registers });
  const gauge = (name: string, help: string) => new Gauge({ name, help, registers });
  const syncs = counter('blazemq_store_syncs_total', 'fdatasync calls, one per group commit');
  const batches = counter('blazemq_store_batches_total', 'Write batches made durable');
  const ops = counter('blazemq_store_ops_total', 'Store operations (enqueue, dequeue, ...) made durable');
  const bytes = counter('blazemq_store_bytes_written_total', 'Bytes written to the journal');
  const syncSeconds = counter('blazemq_store_sync_seconds_total', 'Time spent writing and syncing groups');
  const maxBatch = gauge(
    'blazemq_store_max_batches_per_sync',
    'Largest number of batches sharing one fdatasync',
  );
  const recovery = gauge('blazemq_store_recovery_seconds', 'Time the journal took to recover at start-up');
  const recovered = gauge('blazemq_store_recovered_messages', 'Messages recovered at start-up');
  const segments = gauge('blazemq_store_segments', 'Journal segment files');
  const dataBytes = gauge('blazemq_store_data_bytes', 'Bytes of records in all segments');
  const liveBytes = gauge('blazemq_store_live_bytes', 'Bytes of records still needed');
  const liveMessages = gauge('blazemq_store_live_messages', 'Messages held in the journal');
  const compactions = counter('blazemq_store_compactions_total', 'Segment compactions');
  const failed = gauge('blazemq_store_failed', '1 once the journal has failed (the broker refuses writes)');
  const set = (c: Counter<string>, v: number) => {
    c.reset();
    c.inc(v);
  };
  return (s) => {
    set(syncs, s.syncs);
    set(batches, s.batches);
    set(ops, s.ops);
    set(bytes, s.bytesWritten);
    set(syncSeconds, s.syncMs / 1000);
    set(compactions, s.compactions);
    maxBatch.set(s.maxBatchesPerSync);
    recovery.set(s.recoveryMs / 1000);
    recovered.set(s.recoveredMessages);
    segments.set(s.segments);
    dataBytes.set(s.dataBytes);
    liveBytes.set(s.liveBytes);
    liveMessages.set(s.liveMessages);
    failed.set(s.failed ? 1 : 0);
  };
}
