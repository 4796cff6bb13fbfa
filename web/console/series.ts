/**
 * The live charts' data: a bounded window of samples per series, and its geometry as SVG path data.
 * Pure (the components only render the strings), so the scaling rules are unit-tested.
 */

export interface Sample {
  /** Epoch ms. */
  t: number;
  v: number;
}

/** Keeps the samples of the last `windowMs`, at most `max` of them (a stalled tab must not grow memory). */
export class Series {
  private samples: Sample[] = [];

  constructor(
    readonly windowMs: number,
    readonly max = 600,
  ) {}

  push(t: number, v: number): void {
    if (!Number.isFinite(v)) return;
    // Clock steps backwards (a laptop resumes) would draw a line back in time: start over.
    const last = this.samples[this.samples.length - 1];
    if (last && t < last.t) this.samples = [];
    this.samples.push({ t, v });
    const from = t - this.windowMs;
    let drop = 0;
    while (drop < this.samples.length - 1 && this.samples[drop]!.t < from) drop++;
    drop = Math.max(drop, this.samples.length - this.max);
    if (drop > 0) this.samples.splice(0, drop);
  }

  values(): readonly Sample[] {
    return this.samples;
  }

  latest(): number | undefined {
    return this.samples[this.samples.length - 1]?.v;
  }
}

/**
 * A "nice" upper bound for the y axis: 1, 2 or 5 times a power of ten, at least `max` (and at least 1, so
 * an idle broker's flat zero line sits at the bottom instead of dividing by zero).
 */
export function niceCeiling(max: number): number {
  if (!Number.isFinite(max) || max <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

export interface Plot {
  width: number;
  height: number;
  /** Right edge time (now); the left edge is `end - windowMs`. */
  end: number;
  windowMs: number;
  yMax: number;
}

/** SVG path data (`M x y L x y ...`) of samples in the plot box; '' when there is nothing to draw. */
export function linePath(samples: readonly Sample[], plot: Plot): string {
  const start = plot.end - plot.windowMs;
  const pts: string[] = [];
  for (const s of samples) {
    if (s.t < start) continue;
    const x = ((s.t - start) / plot.windowMs) * plot.width;
    const y = plot.height - (Math.min(Math.max(s.v, 0), plot.yMax) / plot.yMax) * plot.height;
    pts.push(`${pts.length === 0 ? 'M' : 'L'}${round(x)} ${round(y)}`);
  }
  return pts.join(' ');
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The largest value among several series (for one shared y axis). */
export function maxOf(...series: ReadonlyArray<readonly Sample[]>): number {
  let m = 0;
  for (const s of series) for (const p of s) if (p.v > m) m = p.v;
  return m;
}
