/**
 * Where a slow message spends its time (`BLAZEMQ_BENCH_TRACE=1 blazemq group bench ...`): latency split
 * into stages, measured from the outside of the group stack by wrapping node:dgram in this process.
 *
 *   sender:   wait   = first message stamped into a datagram -> that datagram's socket.send()
 *                      (bundling, the setImmediate flush, whatever ran on the event loop in between)
 *   receiver: net    = send time -> the datagram's 'message' event at the receiver (sender's wait, the
 *                      kernel and bridge, time in the receive queue while the receiver was not running)
 *             stack  = 'message' event -> delivery to the bench (decode, reliability, channel, iterator)
 *   slow messages (> 2 ms) are further split by whether a garbage collection of the receiver overlapped
 *   their time in `net` (the datagram waited in the socket while the heap was being collected) and by the
 *   receiver's own JS work in that time (the longest 'message' callback or timer-free gap is not
 *   visible from here, so the rest is "not running": descheduled, or kernel work elsewhere).
 *
 * Only for measurements: it patches dgram.Socket.prototype for the whole process.
 */
import dgram from 'node:dgram';
import { PerformanceObserver } from 'node:perf_hooks';
import { nowMs, quantile } from './bench-stats.js';

export const TRACE = process.env.BLAZEMQ_BENCH_TRACE === '1';

/** Latency above which a message counts as slow (the p99 target). */
const SLOW_MS = 2;

let arrival = 0;
let firstStamp = 0;
const sendWaits: number[] = [];
/** Recent GC pauses of this process as [start, end] wall-clock ms (ring of the last 64). */
const gcs: [number, number][] = [];

/** Call before any socket is opened. */
export function installTrace(): void {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const start = performance.timeOrigin + e.startTime;
      gcs.push([start, start + e.duration]);
      if (gcs.length > 64) gcs.shift();
    }
  }).observe({ entryTypes: ['gc'] });
  const proto = dgram.Socket.prototype as unknown as {
    emit: (event: string, ...args: unknown[]) => boolean;
    send: (...args: unknown[]) => void;
  };
  const emit = proto.emit;
  proto.emit = function (this: unknown, event: string, ...args: unknown[]) {
    if (event === 'message') arrival = nowMs();
    return emit.call(this, event, ...args);
  };
  const send = proto.send;
  proto.send = function (this: unknown, ...args: unknown[]) {
    if (firstStamp > 0) {
      sendWaits.push(nowMs() - firstStamp);
      firstStamp = 0;
    }
    return send.apply(this, args);
  };
}

/** Sender: a message was stamped with `at` and handed to the channel. */
export function stamped(at: number): void {
  if (firstStamp === 0) firstStamp = at;
}

export class StageStats {
  private readonly net: number[] = [];
  private readonly stack: number[] = [];
  private slow = 0;
  private slowByStage = { net: 0, stack: 0, netWithGc: 0 };

  /** A message sent at `sentAt` was delivered now. */
  add(sentAt: number): void {
    const now = nowMs();
    const net = arrival - sentAt;
    const stack = now - arrival;
    this.net.push(net);
    this.stack.push(stack);
    if (now - sentAt > SLOW_MS) {
      this.slow++;
      if (net >= stack) {
        this.slowByStage.net++;
        if (gcs.some(([a, b]) => a < arrival && b > sentAt)) this.slowByStage.netWithGc++;
      } else this.slowByStage.stack++;
    }
  }

  result() {
    return {
      net: summary(this.net),
      stack: summary(this.stack),
      slow: this.slow,
      slowMostlyIn: this.slowByStage,
    };
  }
}

export function senderTrace() {
  return { wait: summary(sendWaits) };
}

function summary(xs: number[]) {
  const s = Float64Array.from(xs).sort();
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { p50: r(quantile(s, 0.5)), p99: r(quantile(s, 0.99)), max: r(quantile(s, 1)) };
}
