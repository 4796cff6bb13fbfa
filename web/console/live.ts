/**
 * The overview's chart history, fed by each poll of /v1/admin/overview and /v1/admin/queues. Kept by the
 * app (not by the overview view) so that the charts keep their history while the operator looks elsewhere.
 * Pure.
 */
import { Series } from './series.js';
import type { Overview, QueueInfo } from './types.js';

/** Queues with their own depth line; more would make the chart unreadable. */
export const TOP_QUEUES = 4;

export class LiveHistory {
  readonly enqueued: Series;
  readonly dequeued: Series;
  readonly totalDepth: Series;
  private readonly depths = new Map<string, Series>();

  constructor(readonly windowMs = 60_000) {
    this.enqueued = new Series(windowMs);
    this.dequeued = new Series(windowMs);
    this.totalDepth = new Series(windowMs);
  }

  record(t: number, overview: Overview | undefined, queues: readonly QueueInfo[] | undefined): void {
    if (overview) {
      // The broker computes the rates over its own last ~5 s, so a missed poll loses no accuracy.
      this.enqueued.push(t, overview.rates.enqueuedPerSecond);
      this.dequeued.push(t, overview.rates.dequeuedPerSecond);
    }
    if (queues) {
      let total = 0;
      for (const q of queues) {
        total += q.depth;
        let s = this.depths.get(q.name);
        if (!s) {
          s = new Series(this.windowMs);
          this.depths.set(q.name, s);
        }
        s.push(t, q.depth);
      }
      this.totalDepth.push(t, total);
      // Deleted queues stop being drawn.
      const present = new Set(queues.map((q) => q.name));
      for (const name of [...this.depths.keys()]) if (!present.has(name)) this.depths.delete(name);
    }
  }

  /** The deepest queues now, deepest first (ties by name, so the legend does not flicker). */
  topQueues(n = TOP_QUEUES): Array<{ name: string; series: Series }> {
    return [...this.depths.entries()]
      .map(([name, series]) => ({ name, series }))
      .filter((q) => (q.series.latest() ?? 0) > 0)
      .sort((a, b) => (b.series.latest() ?? 0) - (a.series.latest() ?? 0) || a.name.localeCompare(b.name))
      .slice(0, n);
  }
}
