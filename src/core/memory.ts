/**
 * Memory accounting and producer flow control.
 *
 * What is counted: every message a queue holds (pending or in flight, until acked or dropped) and every
 * message waiting in a topic subscription's buffer, at `body.byteLength + MESSAGE_OVERHEAD` bytes. A
 * message shared by several holders (topic fan-out, composite send) is counted once per holder, which
 * over-estimates: the limits are upper bounds, never exceeded by sharing. Counting is two additions per
 * message (holder and global), with no allocation.
 *
 * What happens at a limit: the holder's (or the global) `FlowGate` closes. A send that added to a
 * holder whose gate is closed is still accepted, but its promise resolves only once the gate opens
 * again; protocols already stop reading a producer with too many unresolved sends (STOMP `maxInflight`,
 * MQTT receive maximum), so a producer overshoots by at most its in-flight window. Gates open again at
 * RESUME_RATIO of the limit, so that producers are not released and stopped on every single message.
 *
 * Stored queues page persistent messages out of memory above PAGE_RATIO of a limit (core/paging.ts): a
 * paged-out message counts MESSAGE_OVERHEAD only, and a producer of persistent messages to such a queue
 * waits only when what paging cannot drop (stubs, messages in flight, non-persistent ones) is over the
 * limit.
 */
import type { Message } from './message.js';
import { RESOLVED } from './store-writer.js';

/**
 * Estimated bytes a message costs beyond its body: the Message object and its strings, the queue entry
 * or buffer slot, the in-flight map slot. Measured order of magnitude for STOMP messages with a few
 * headers; it only has to keep many tiny messages from escaping the limit.
 */
export const MESSAGE_OVERHEAD = 512;

/** Gates open again when usage falls to this fraction of the limit. */
export const RESUME_RATIO = 0.9;

/**
 * Stored queues page persistent messages out (core/paging.ts) while usage is above this fraction of a
 * limit: below the limit, so that paging keeps the gates open for the producers that cannot page.
 */
export const PAGE_RATIO = 0.7;

export function messageBytes(message: Message): number {
  return message.body.byteLength + MESSAGE_OVERHEAD;
}

/** A point producers wait at while it is closed. One shared promise per closed period. */
export class FlowGate {
  closed = false;
  private promise: Promise<void> | undefined;
  private release: (() => void) | undefined;

  /** Resolves when the gate opens (at once if it is open). */
  wait(): Promise<void> {
    if (!this.closed) return Promise.resolve();
    if (this.promise === undefined) {
      this.promise = new Promise<void>((resolve) => {
        this.release = resolve;
      });
    }
    return this.promise;
  }

  close(): void {
    this.closed = true;
  }

  open(): void {
    if (!this.closed) return;
    this.closed = false;
    const release = this.release;
    this.promise = this.release = undefined;
    release?.();
  }
}

/** A byte counter with a limit and the gate it drives. `limit` 0 = unlimited (the gate never closes). */
export class MemoryMeter {
  used = 0;
  /** Highest `used` seen, for stats and tests. */
  peak = 0;
  readonly gate = new FlowGate();
  /** Usage at which a closed gate opens again. */
  readonly resumeAt: number;
  /** Usage above which stored queues page messages out; Infinity without a limit. */
  readonly pageAt: number;

  constructor(readonly limit: number) {
    this.resumeAt = Math.floor(limit * RESUME_RATIO);
    this.pageAt = limit > 0 ? Math.floor(limit * PAGE_RATIO) : Number.POSITIVE_INFINITY;
  }

  get over(): boolean {
    return this.gate.closed;
  }

  add(bytes: number): void {
    this.used += bytes;
    const used = this.used;
    if (used > this.peak) this.peak = used;
    if (this.limit > 0 && used > this.limit) this.gate.closed = true;
  }

  sub(bytes: number): void {
    this.used -= bytes;
    const used = this.used;
    if (this.gate.closed && used <= this.resumeAt) this.gate.open();
  }

  /** Would adding `bytes` pass the limit? */
  wouldExceed(bytes: number): boolean {
    return this.limit > 0 && this.used + bytes > this.limit;
  }
}

/**
 * Collects the gates a send ran into while it was routed (synchronously), so that the send can wait on
 * them. Nothing is allocated unless a gate is hit.
 */
export class FlowCollector {
  private first: FlowGate | undefined;
  private more: FlowGate[] | undefined;

  hit(gate: FlowGate): void {
    if (this.first === undefined) this.first = gate;
    else if (gate !== this.first) {
      if (this.more === undefined) this.more = [gate];
      else if (!this.more.includes(gate)) this.more.push(gate);
    }
  }

  /** Starts collecting for one operation; returns the state to hand back to `end` (re-entrancy). */
  begin(): FlowState {
    const saved: FlowState =
      this.first === undefined && this.more === undefined ? NONE : [this.first, this.more];
    this.first = this.more = undefined;
    return saved;
  }

  /** The wait for what was hit since `begin` (undefined if nothing), and restores the outer state. */
  end(saved: FlowState): Promise<void> | undefined {
    const first = this.first;
    const more = this.more;
    if (saved === NONE) this.first = this.more = undefined;
    else [this.first, this.more] = saved;
    if (first === undefined) return undefined;
    if (more === undefined) return first.wait();
    return Promise.all([first.wait(), ...more.map((g) => g.wait())]).then(noop);
  }
}

/**
 * A send's or commit's promise when it also hit a memory gate: resolves when both have, and rejects as
 * soon as `durable` does (a store failure is not hidden by the wait).
 */
export function bothDone(durable: Promise<void>, wait: Promise<void>): Promise<void> {
  return durable === RESOLVED ? wait : durable.then(() => wait);
}

type FlowState = readonly [FlowGate | undefined, FlowGate[] | undefined];
const NONE: FlowState = Object.freeze([undefined, undefined]) as FlowState;

function noop(): void {}
