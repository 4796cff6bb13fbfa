/**
 * Answers in request order (native.proto, "Requests and replies": each request is answered exactly
 * once, in the order the requests were sent). Operations finish out of order (a non-persistent send
 * before an earlier persistent one is durable), so each answer waits for every earlier one.
 *
 * Fire-and-forget requests (request_id 0) have no answer when they succeed; they are tracked only while
 * they wait on the store (they count against the in-flight limit) and to report a failure in order.
 */
import { ACCEPTED } from '../../core/index.js';

export interface ReplySink {
  /** Success of `requestId` (non-zero): `reply` builds the frame, or Ok when undefined. */
  answered(requestId: number, reply: (() => Uint8Array) | undefined): void;
  failed(requestId: number, error: unknown): void;
  /** The number of pending operations went down. */
  progressed(): void;
}

interface Entry {
  readonly requestId: number;
  readonly reply: (() => Uint8Array) | undefined;
  readonly after: (() => void) | undefined;
  done: boolean;
  error: unknown;
}

export class OrderedReplies {
  private entries: Entry[] = [];
  private head = 0;
  private stopped = false;

  constructor(private readonly sink: ReplySink) {}

  get pending(): number {
    return this.entries.length - this.head;
  }

  /**
   * `promise` settles the request (ACCEPTED: done now). `reply` builds the success frame (Ok when
   * undefined); `after` runs once the answer is out (Disconnect closes there).
   */
  track(requestId: number, promise: Promise<unknown>, reply?: () => Uint8Array, after?: () => void): void {
    if (this.stopped) return;
    if (promise === ACCEPTED && this.entries.length === this.head) {
      // Hot path: nothing earlier is pending, so the answer goes out now, without an entry.
      if (requestId !== 0) this.sink.answered(requestId, reply);
      after?.();
      return;
    }
    const entry: Entry = { requestId, reply, after, done: promise === ACCEPTED, error: undefined };
    this.entries.push(entry);
    if (entry.done) return;
    promise.then(
      () => {
        entry.done = true;
        this.flush();
      },
      (e: unknown) => {
        entry.done = true;
        entry.error = e ?? new Error('failed');
        this.flush();
      },
    );
  }

  /** A request that failed already: reported after the answers of earlier requests. */
  fail(requestId: number, error: unknown): void {
    if (this.stopped) return;
    this.entries.push({ requestId, reply: undefined, after: undefined, done: true, error });
    this.flush();
  }

  stop(): void {
    this.stopped = true;
    this.entries = [];
    this.head = 0;
  }

  private flush(): void {
    let progressed = false;
    while (!this.stopped && this.head < this.entries.length) {
      const e = this.entries[this.head]!;
      if (!e.done) break;
      this.head++;
      progressed = true;
      if (e.error !== undefined) this.sink.failed(e.requestId, e.error);
      else {
        if (e.requestId !== 0) this.sink.answered(e.requestId, e.reply);
        e.after?.();
      }
    }
    if (this.head === this.entries.length) {
      this.entries = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (progressed && !this.stopped) this.sink.progressed();
  }
}
