// performance.now() and hrtime share libuv's CLOCK_MONOTONIC, which is system-wide: shifted to "ms since
// boot" it is comparable between the producer and consumer processes, so one-way latency can be measured.
import { performance } from 'node:perf_hooks';

const OFFSET = Number(process.hrtime.bigint()) / 1e6 - performance.now();
export const nowMs = () => OFFSET + performance.now();

export function percentiles(values) {
  const a = Float64Array.from(values).sort();
  const q = (p) => a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))];
  const r = (x) => Math.round(x * 1000) / 1000;
  return { p50: r(q(50)), p90: r(q(90)), p99: r(q(99)), max: r(a[a.length - 1]), samples: a.length };
}
