/**
 * Prometheus metrics (`GET /metrics`). prom-client is loaded on the first scrape (prometheus.ts), not at
 * start-up: a broker nobody scrapes does not pay for it (docs/PERFORMANCE.md, "Broker: MQTT", RSS: with
 * its process metrics it added ~2-4 MB to the idle broker, and a PerformanceEntry per GC). Process
 * metrics that prom-client samples over time (GC durations, event-loop lag) therefore start at the first
 * scrape; the counters read from the core, the store and the OS are complete from the start.
 */
import type { BlazeCore } from '../../core/index.js';
import type { JournalStats } from '../../store/journal/journal.js';

export interface MetricsContext {
  core: BlazeCore;
  /** The journal's counters, when the broker runs on the journal. */
  storeStats?: () => JournalStats;
  /** Most queues/topics given their own series. Default 1000. */
  maxAddresses?: number;
  /** Process metrics (CPU, heap, event loop lag...). Default true. */
  processMetrics?: boolean;
}

export interface BrokerMetrics {
  readonly contentType: string;
  /** Reads the current values and renders the text exposition format. */
  scrape(): Promise<string>;
}

/** prom-client's `Registry.PROMETHEUS_CONTENT_TYPE` (text format 0.0.4), known before it is loaded. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function createMetrics(ctx: MetricsContext): BrokerMetrics {
  let loading: Promise<BrokerMetrics> | undefined;
  return {
    contentType: PROMETHEUS_CONTENT_TYPE,
    scrape() {
      loading ??= import('./prometheus.js').then(
        (m) => m.createPrometheusMetrics(ctx),
        (err: unknown) => {
          // A failed load is retried by the next scrape.
          loading = undefined;
          throw err;
        },
      );
      return loading.then((m) => m.scrape());
    },
  };
}
