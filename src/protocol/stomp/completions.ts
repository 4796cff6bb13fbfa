/**
 * Keeps a connection's replies in frame order. Operations complete out of order (a non-persistent SEND
 * resolves before an earlier persistent one is durable), but a client reads RECEIPT n as "everything up
 * to frame n is done", so each outcome waits for every earlier one. An error is an outcome too: it is
 * reported (ERROR + close) after the receipts of the frames that preceded it.
 */

export interface Outcome {
  /** `receipt` header of the frame, if any. */
  readonly receipt: string | undefined;
  /** Command of the frame, for error messages. */
  readonly command: string;
  /** Runs once earlier outcomes are out and this one succeeded (DISCONNECT closes here). */
  readonly after?: (() => void) | undefined;
}

interface Entry extends Outcome {
  done: boolean;
  failed: boolean;
  error: unknown;
}

export interface CompletionSink {
  receipt(receiptId: string): void;
  error(error: unknown, outcome: Outcome): void;
  /** The number of pending operations went down. */
  progressed(): void;
}

export class OrderedCompletions {
  private entries: Entry[] = [];
  private head = 0;
  private stopped = false;

  constructor(private readonly sink: CompletionSink) {}

  /** Operations not reported yet, finished or not. */
  get pending(): number {
    return this.entries.length - this.head;
  }

  /** An operation that has already succeeded. */
  succeeded(outcome: Outcome): void {
    if (this.stopped || (outcome.receipt === undefined && outcome.after === undefined)) return;
    if (this.pending === 0) {
      this.report(outcome, false, undefined);
      return;
    }
    this.entries.push({ ...outcome, done: true, failed: false, error: undefined });
  }

  /** An operation that has already failed. */
  failed(error: unknown, outcome: Outcome): void {
    if (this.stopped) return;
    this.entries.push({ ...outcome, done: true, failed: true, error });
    this.flush();
  }

  /** An operation in progress. */
  track(promise: Promise<void>, outcome: Outcome): void {
    if (this.stopped) return;
    const entry: Entry = { ...outcome, done: false, failed: false, error: undefined };
    this.entries.push(entry);
    promise.then(
      () => {
        entry.done = true;
        this.flush();
      },
      (e: unknown) => {
        entry.done = true;
        entry.failed = true;
        entry.error = e;
        this.flush();
      },
    );
  }

  /** Nothing more is reported (the connection is closing). */
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
      this.report(e, e.failed, e.error);
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

  private report(outcome: Outcome, failed: boolean, error: unknown): void {
    if (failed) {
      this.sink.error(error, outcome);
      return;
    }
    if (outcome.receipt !== undefined) this.sink.receipt(outcome.receipt);
    outcome.after?.();
  }
}
