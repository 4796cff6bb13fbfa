/**
 * Reports operations in the order they were started although they finish out of order: the shape of
 * STOMP receipts (a RECEIPT means "everything up to this frame is done") and native replies (answered
 * in request order). Each item is reported once it and every earlier one have settled.
 *
 * Operations completed by the same promise share one settlement (a turn's persistent sends all wait
 * for the same store group), so a group of N costs one `then`, not N.
 */

/** How an operation ended. */
export interface Settlement {
  done: boolean;
  failed: boolean;
  error: unknown;
}

export const SUCCEEDED: Settlement = Object.freeze({ done: true, failed: false, error: undefined });

export class InOrder<T> {
  // Parallel arrays from `head` on: each operation's item and how it ended.
  private items: T[] = [];
  private settlements: Settlement[] = [];
  private head = 0;
  private stopped = false;
  private lastPromise: Promise<unknown> | undefined;
  private lastSettlement: Settlement | undefined;

  constructor(
    /** Reports one item, in order. */
    private readonly report: (item: T, settlement: Settlement) => void,
    /** The number of pending operations went down. */
    private readonly progressed: () => void,
  ) {}

  /** Operations not reported yet, finished or not. */
  get pending(): number {
    return this.items.length - this.head;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** An operation that has already succeeded: reported now when nothing earlier is pending. */
  succeeded(item: T): void {
    if (this.stopped) return;
    if (this.pending === 0) {
      this.report(item, SUCCEEDED);
      return;
    }
    this.items.push(item);
    this.settlements.push(SUCCEEDED);
  }

  /** An operation that has already failed. */
  failed(item: T, error: unknown): void {
    if (this.stopped) return;
    this.items.push(item);
    this.settlements.push({ done: true, failed: true, error });
    this.flush();
  }

  /** An operation that ends when `promise` settles. */
  track(item: T, promise: Promise<unknown>): void {
    if (this.stopped) return;
    this.items.push(item);
    // A promise settles once: every operation waiting on the same one shares its settlement.
    if (promise === this.lastPromise) {
      this.settlements.push(this.lastSettlement!);
      return;
    }
    const settlement: Settlement = { done: false, failed: false, error: undefined };
    this.lastPromise = promise;
    this.lastSettlement = settlement;
    this.settlements.push(settlement);
    promise.then(
      () => {
        settlement.done = true;
        this.flush();
      },
      (e: unknown) => {
        settlement.done = true;
        settlement.failed = true;
        settlement.error = e;
        this.flush();
      },
    );
  }

  /** Nothing more is reported (the connection is closing). */
  stop(): void {
    this.stopped = true;
    this.items = [];
    this.settlements = [];
    this.head = 0;
    this.lastPromise = undefined;
    this.lastSettlement = undefined;
  }

  private flush(): void {
    let progressed = false;
    while (!this.stopped && this.head < this.items.length) {
      const settlement = this.settlements[this.head]!;
      if (!settlement.done) break;
      const item = this.items[this.head]!;
      this.head++;
      progressed = true;
      this.report(item, settlement);
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.settlements = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.settlements = this.settlements.slice(this.head);
      this.head = 0;
    }
    if (progressed && !this.stopped) this.progressed();
  }
}
