/**
 * Answers in request order (native.proto, "Requests and replies": each request is answered exactly
 * once, in the order the requests were sent). Operations finish out of order (a non-persistent send
 * before an earlier persistent one is durable), so each answer waits for every earlier one.
 *
 * Fire-and-forget requests (request_id 0) have no answer when they succeed; they are tracked only while
 * they wait on the store (they count against the in-flight limit) and to report a failure in order.
 */
import { ACCEPTED } from '../../core/index.js';
import { InOrder, type Settlement } from '../../util/in-order.js';

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
}

export class OrderedReplies {
  private readonly inOrder: InOrder<Entry>;

  constructor(private readonly sink: ReplySink) {
    this.inOrder = new InOrder<Entry>(
      (entry, settlement) => this.report(entry, settlement),
      () => sink.progressed(),
    );
  }

  get pending(): number {
    return this.inOrder.pending;
  }

  /**
   * `promise` settles the request (ACCEPTED: done now). `reply` builds the success frame (Ok when
   * undefined); `after` runs once the answer is out (Disconnect closes there).
   */
  track(requestId: number, promise: Promise<unknown>, reply?: () => Uint8Array, after?: () => void): void {
    if (this.inOrder.isStopped) return;
    if (promise === ACCEPTED && this.inOrder.pending === 0) {
      // Hot path: nothing earlier is pending, so the answer goes out now, without an entry.
      if (requestId !== 0) this.sink.answered(requestId, reply);
      after?.();
      return;
    }
    const entry: Entry = { requestId, reply, after };
    if (promise === ACCEPTED) this.inOrder.succeeded(entry);
    else this.inOrder.track(entry, promise);
  }

  /** A request that failed already: reported after the answers of earlier requests. */
  fail(requestId: number, error: unknown): void {
    this.inOrder.failed({ requestId, reply: undefined, after: undefined }, error ?? new Error('failed'));
  }

  stop(): void {
    this.inOrder.stop();
  }

  private report(e: Entry, settlement: Settlement): void {
    if (settlement.failed) this.sink.failed(e.requestId, settlement.error ?? new Error('failed'));
    else {
      if (e.requestId !== 0) this.sink.answered(e.requestId, e.reply);
      e.after?.();
    }
  }
}
