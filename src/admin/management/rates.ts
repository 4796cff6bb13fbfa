/**
 * Message rates for the overview: counters sampled over a sliding window (~5 s), so that a rate is the
 * change of a counter between the oldest and newest sample divided by the time between them. Sampling
 * happens when asked (each overview request) and on a slow timer, so an idle console costs nothing and a
 * rate is never older than the window. Pure apart from the clock passed in.
 */

export interface CounterSample {
  readonly at: number;
  readonly enqueued: number;
  readonly dequeued: number;
}

export interface Rates {
  readonly enqueuedPerSecond: number;
  readonly dequeuedPerSecond: number;
}

export class RateWindow {
  private readonly samples: CounterSample[] = [];

  constructor(
    /** Samples older than this (ms) are dropped, except the one that still spans the window. */
    readonly windowMs = 5000,
    /** Bound on samples kept, whatever the sampling frequency. */
    private readonly maxSamples = 64,
  ) {}

  add(sample: CounterSample): void {
    const last = this.samples[this.samples.length - 1];
    // Counters restart from zero when a queue is deleted: a drop starts a fresh window, never a negative rate.
    if (last !== undefined && (sample.enqueued < last.enqueued || sample.dequeued < last.dequeued)) {
      this.samples.length = 0;
    }
    if (last !== undefined && sample.at <= last.at && this.samples.length > 0) {
      this.samples[this.samples.length - 1] = sample;
    } else this.samples.push(sample);
    // Keep one sample at or before the window start, so the rate covers the full window.
    while (this.samples.length > 2 && this.samples[1]!.at <= sample.at - this.windowMs) this.samples.shift();
    while (this.samples.length > this.maxSamples) this.samples.shift();
  }

  rates(): Rates {
    const n = this.samples.length;
    if (n < 2) return { enqueuedPerSecond: 0, dequeuedPerSecond: 0 };
    const a = this.samples[0]!;
    const b = this.samples[n - 1]!;
    const seconds = (b.at - a.at) / 1000;
    if (seconds <= 0) return { enqueuedPerSecond: 0, dequeuedPerSecond: 0 };
    return {
      enqueuedPerSecond: (b.enqueued - a.enqueued) / seconds,
      dequeuedPerSecond: (b.dequeued - a.dequeued) / seconds,
    };
  }
}
