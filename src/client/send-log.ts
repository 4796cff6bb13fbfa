/**
 * Sends the broker has not confirmed yet, in sequence order, for resending after a reconnect with the same
 * (producer_id, sequence): the broker accepts each pair once (native.proto Send), so a resend of a message
 * that did arrive is answered Ok without being routed twice. Bounded by `capacity` messages: a producer
 * that gets ahead of the broker waits for room (producer flow control) instead of buffering without bound.
 */
import type { Frame } from './codec/frames.js';

export interface PendingSend {
  readonly firstSequence: number;
  readonly count: number;
  /** The Send or SendBatch frame for a request id (same sequence numbers every time). */
  readonly build: (requestId: number) => Frame;
  /** `ids`: Ok.message_ids when the frame asked for them (want_ids). */
  resolve(ids?: readonly string[]): void;
  reject(error: Error): void;
}

export class SendLog {
  private readonly entries = new Map<number, PendingSend>();
  private messages = 0;
  private readonly roomWaiters: Array<() => void> = [];
  private nextSequence = 1;

  constructor(private readonly capacity: number) {}

  /** Sequence numbers for `count` messages (contiguous, as SendBatch needs). */
  allocate(count: number): number {
    const first = this.nextSequence;
    this.nextSequence += count;
    return first;
  }

  hasRoom(count: number): boolean {
    // An oversized batch still goes when the log is empty, or it would wait forever.
    return this.messages === 0 || this.messages + count <= this.capacity;
  }

  /** Resolves at the next removal; callers re-check hasRoom() and add() in the same synchronous step. */
  roomFreed(): Promise<void> {
    return new Promise<void>((r) => this.roomWaiters.push(r));
  }

  add(entry: PendingSend): void {
    this.entries.set(entry.firstSequence, entry);
    this.messages += entry.count;
  }

  /** Removes a settled entry; false when it was no longer there. */
  remove(entry: PendingSend): boolean {
    if (this.entries.get(entry.firstSequence) !== entry) return false;
    this.entries.delete(entry.firstSequence);
    this.messages -= entry.count;
    for (const w of this.roomWaiters.splice(0)) w();
    return true;
  }

  /** In sequence order (Map keeps insertion order, and sequences are allocated in insertion order). */
  pending(): PendingSend[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.messages;
  }

  /** Fails everything (client closed for good). */
  failAll(error: Error): void {
    const all = this.pending();
    for (const e of all) this.remove(e);
    for (const e of all) e.reject(error);
  }
}
