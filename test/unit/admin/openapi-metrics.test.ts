import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/admin/management/metrics.js';
import { adminOpenApiPaths } from '../../../src/admin/management/openapi-paths.js';
import { ADMIN_PREFIX, ROUTES } from '../../../src/admin/management/router.js';
import type { JournalStats } from '../../../src/store/journal/index.js';
import { bytes, harness } from '../core/helpers.js';

describe('adminOpenApiPaths', () => {
  it('describes exactly the routes of the router', () => {
    const described = new Set<string>();
    for (const [path, item] of Object.entries(adminOpenApiPaths)) {
      for (const method of Object.keys(item as object)) {
        if (method === 'parameters') continue;
        described.add(`${method.toUpperCase()} ${path}`);
      }
    }
    const routed = new Set(ROUTES.map((r) => `${r.method} ${ADMIN_PREFIX}${r.pattern}`));
    routed.add('GET /metrics');
    expect(described).toEqual(routed);
  });

  it('declares every path parameter it uses', () => {
    for (const [path, item] of Object.entries(adminOpenApiPaths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = ((item as { parameters?: Array<{ name: string }> }).parameters ?? []).map(
        (p) => p.name,
      );
      expect(declared.sort(), path).toEqual(names.sort());
    }
  });

  it('has unique operation ids', () => {
    const ids = Object.values(adminOpenApiPaths).flatMap((item) =>
      Object.values(item as Record<string, { operationId?: string }>)
        .map((op) => op.operationId)
        .filter((id) => id !== undefined),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });
});

/** `name{labels} value` lines of the exposition text, as a map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('createMetrics', () => {
  it('reports per-queue counters, connections and memory, updated on each scrape', async () => {
    const h = await harness();
    const metrics = createMetrics({ core: h.core, processMetrics: false });
    const c = h.core.connect({ principal: { user: 'u', anonymous: false }, protocol: 'stomp' });
    await c.send({ address: 'queue://m', body: bytes('x') });
    let s = samples(await metrics.scrape());
    expect(s.get('blazemq_messages_enqueued_total{address="queue://m"}')).toBe(1);
    expect(s.get('blazemq_queue_depth{address="queue://m"}')).toBe(1);
    expect(s.get('blazemq_connections{protocol="stomp"}')).toBe(1);
    expect(s.get('blazemq_memory_bytes')).toBeGreaterThan(0);
    await c.send({ address: 'queue://m', body: bytes('y') });
    await c.send({ address: 'topic://t', body: bytes('z') });
    h.core.admin.purge('m');
    c.close();
    s = samples(await metrics.scrape());
    expect(s.get('blazemq_messages_enqueued_total{address="queue://m"}')).toBe(2);
    expect(s.get('blazemq_messages_dequeued_total{address="queue://m"}')).toBe(2);
    expect(s.get('blazemq_queue_depth{address="queue://m"}')).toBe(0);
    expect(s.get('blazemq_topic_published_total{address="topic://t"}')).toBe(1);
    expect(s.has('blazemq_connections{protocol="stomp"}')).toBe(false);
    expect(s.get('blazemq_memory_bytes')).toBe(0);
  });

  it('caps per-address series, keeping the deepest queues', async () => {
    const h = await harness();
    const metrics = createMetrics({ core: h.core, processMetrics: false, maxAddresses: 1 });
    const c = h.core.connect({ principal: { user: 'u', anonymous: false }, protocol: 't' });
    await c.send({ address: 'queue://shallow', body: bytes('x') });
    for (let i = 0; i < 3; i++) await c.send({ address: 'queue://deep', body: bytes('x') });
    const s = samples(await metrics.scrape());
    expect(s.get('blazemq_queue_depth{address="queue://deep"}')).toBe(3);
    expect(s.has('blazemq_queue_depth{address="queue://shallow"}')).toBe(false);
  });

  it('exports store counters and process metrics into its own registry only', async () => {
    const h = await harness();
    const stats = {
      syncs: 3,
      batches: 4,
      ops: 5,
      bytesWritten: 600,
      maxBatchesPerSync: 2,
      syncMs: 1500,
      recoveryMs: 250,
      recoveredMessages: 7,
      tornTailsTruncated: 0,
      segments: 1,
      dataBytes: 700,
      liveBytes: 300,
      liveMessages: 2,
      liveKv: 0,
      segmentsDeleted: 0,
      compactions: 0,
      relocatedOps: 0,
      failed: false,
      // Fields the metrics do not read may be added to JournalStats by others: not listed here.
    } as JournalStats;
    const a = createMetrics({ core: h.core, storeStats: () => stats });
    const b = createMetrics({ core: (await harness()).core, processMetrics: false });
    const s = samples(await a.scrape());
    expect(s.get('blazemq_store_syncs_total')).toBe(3);
    expect(s.get('blazemq_store_bytes_written_total')).toBe(600);
    expect(s.get('blazemq_store_sync_seconds_total')).toBe(1.5);
    expect(s.get('blazemq_store_recovery_seconds')).toBe(0.25);
    expect(s.get('blazemq_store_live_messages')).toBe(2);
    expect([...s.keys()].some((k) => k.startsWith('process_cpu'))).toBe(true);
    stats.syncs = 10;
    expect(samples(await a.scrape()).get('blazemq_store_syncs_total')).toBe(10);
    const other = await b.scrape();
    expect(other).not.toContain('blazemq_store_syncs_total');
    expect(other).not.toContain('process_cpu');
  });
});
