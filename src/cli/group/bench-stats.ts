/**
 * Pure parts of `blazemq group bench`: the payload layout and the per-sender statistics a receiver
 * keeps. Send times are wall-clock milliseconds (performance.timeOrigin + performance.now()), so
 * latencies are meaningful between processes of one host (the namespace lab) or hosts with synchronised
 * clocks; throughput never depends on clocks agreeing.
 *
 *   byte 0      kind: 1 data, 2 end (seq = number of data messages sent), 3 warm-up (not counted)
 *   bytes 1-4   seq, u32 big-endian, from 0
 *   bytes 5-12  send time, f64 big-endian, ms
 *   rest        padding up to --size
 */
export const KIND_DATA = 1;
export const KIND_END = 2;
/** Sent first so that the JIT and the heap settle before anything is measured. */
export const KIND_WARMUP = 3;
export const HEADER_SIZE = 13;

export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function writeHeader(buf: Buffer, kind: number, seq: number, time: number): void {
  buf[0] = kind;
  buf.writeUInt32BE(seq, 1);
  buf.writeDoubleBE(time, 5);
}

export interface Header {
  kind: number;
  seq: number;
  time: number;
}

export function readHeader(data: Uint8Array): Header | undefined {
  if (data.length < HEADER_SIZE) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { kind: b[0]!, seq: b.readUInt32BE(1), time: b.readDoubleBE(5) };
}

/** Value at quantile q (0..1) of an ascending array, nearest-rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export interface StreamResult {
  from: string;
  received: number;
  expected: number;
  /** Data messages that arrived out of per-sender order or twice: must be 0. */
  disorder: number;
  msgsPerSec: number;
  mbPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /**
   * CPU time (user + system) of the receiving process per message, first to last delivery: steadier than
   * rates on a shared machine, since time spent waiting for a CPU is not counted.
   */
  cpuUsPerMsg: number;
}

/** One sender's stream as seen by one receiver. */
export class Stream {
  received = 0;
  bytes = 0;
  nextSeq = 0;
  disorder = 0;
  firstAt = 0;
  lastAt = 0;
  private cpuAtFirst = 0;
  private cpuAtLast = 0;
  private lat: Float64Array;

  constructor(readonly from: string) {
    this.lat = new Float64Array(1024);
  }

  add(h: Header, size: number, at: number): void {
    if (this.received === 0) {
      this.firstAt = at;
      this.cpuAtFirst = cpuMicros();
    }
    this.lastAt = at;
    if (h.seq !== this.nextSeq) this.disorder++;
    this.nextSeq = h.seq + 1;
    if (this.received === this.lat.length) {
      const bigger = new Float64Array(this.lat.length * 2);
      bigger.set(this.lat);
      this.lat = bigger;
    }
    this.lat[this.received++] = at - h.time;
    this.bytes += size;
  }

  result(expected: number): StreamResult {
    this.cpuAtLast = cpuMicros();
    const lat = this.lat.subarray(0, this.received).sort();
    // Rate between the first and the last delivery; one message has no duration.
    const secs = (this.lastAt - this.firstAt) / 1000;
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return {
      from: this.from,
      received: this.received,
      expected,
      disorder: this.disorder,
      msgsPerSec: secs > 0 ? Math.round(this.received / secs) : 0,
      mbPerSec: secs > 0 ? round(this.bytes / secs / 1e6) : 0,
      latencyMs: {
        p50: round(quantile(lat, 0.5)),
        p90: round(quantile(lat, 0.9)),
        p99: round(quantile(lat, 0.99)),
        max: round(quantile(lat, 1)),
      },
      cpuUsPerMsg: this.received > 1 ? round((this.cpuAtLast - this.cpuAtFirst) / this.received) : 0,
    };
  }
}

/** CPU time of this process so far, user + system, in microseconds. */
export function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
