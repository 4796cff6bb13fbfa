/** A hand-drawn SVG line chart of a few live series sharing one y axis (geometry in series.ts). */
import { linePath, maxOf, niceCeiling, type Sample } from '../series.js';

export interface ChartLine {
  label: string;
  /** A CSS colour. */
  color: string;
  samples: readonly Sample[];
}

export interface ChartProps {
  title: string;
  lines: ChartLine[];
  windowMs: number;
  now: number;
  unit?: string;
}

const W = 600;
const H = 160;

export function LineChart({ title, lines, windowMs, now, unit = '' }: ChartProps) {
  const yMax = niceCeiling(maxOf(...lines.map((l) => l.samples)));
  const plot = { width: W, height: H, end: now, windowMs, yMax };
  const grid = [0.25, 0.5, 0.75];
  return (
    <figure class="chart">
      <figcaption>
        {title}
        <span class="legend">
          {lines.map((l) => (
            <span key={l.label}>
              <i style={{ background: l.color }} />
              {l.label} {fmt(l.samples[l.samples.length - 1]?.v)}
              {unit}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={title}>
        {grid.map((g) => (
          <line key={g} class="grid" x1={0} x2={W} y1={H * g} y2={H * g} />
        ))}
        {lines.map((l) => (
          <path
            key={l.label}
            d={linePath(l.samples, plot)}
            stroke={l.color}
            fill="none"
            stroke-width={2}
            vector-effect="non-scaling-stroke"
          />
        ))}
      </svg>
      <div class="axis">
        <span>
          max {fmt(yMax)}
          {unit}
        </span>
        <span>last {Math.round(windowMs / 1000)} s</span>
      </div>
    </figure>
  );
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '-';
  return v < 10 ? v.toFixed(1).replace(/\.0$/, '') : String(Math.round(v));
}
