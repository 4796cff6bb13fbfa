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

/**
 * How an operation ended. Operations completed by the same promise share one (a turn's persistent SENDs
 * all wait for the same store group), so a group of N operations costs one `then`, not N.
 */
interface Settlement {
  done: boolean;
  failed: boolean;
  error: unknown;
}

const SUCCEEDED: Settlement = Object.freeze({ done: true, failed: false, error: undefined });

export interface CompletionSink {
  receipt(receiptId: string): void;
  error(error: unknown, outcome: Outcome): void;
  /** The number of pending operations went down. */
  progressed(): void;
}

export class OrderedCompletions {
  // Parallel arrays from `head` on: each operation's outcome and how it ended.
  private outcomes: Outcome[] = [];
  private settlements: Settlement[] = [];
  private head = 0;
  private stopped = false;
  private lastPromise: Promise<void> | undefined;
  private lastSettlement: Settlement | undefined;

  constructor(private readonly sink: CompletionSink) {}

  /** Operations not reported yet, finished or not. */
  get pending(): number {
    return this.outcomes.length - this.head;
  }

  /** An operation that has already succeeded. */
  succeeded(outcome: Outcome): void {
    if (this.stopped || (outcome.receipt === undefined && outcome.after === undefined)) return;
    if (this.pending === 0) {
      this.report(outcome, SUCCEEDED);
      return;
    }
    this.outcomes.push(outcome);
    this.settlements.push(SUCCEEDED);
  }

  /** An operation that has already failed. */
  failed(error: unknown, outcome: Outcome): void {
    if (this.stopped) return;
    this.outcomes.push(outcome);
    this.settlements.push({ done: true, failed: true, error });
    this.flush();
  }

  /** An operation in progress. */
  track(promise: Promise<void>, outcome: Outcome): void {
    if (this.stopped) return;
    this.outcomes.push(outcome);
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
    this.outcomes = [];
    this.settlements = [];
    this.head = 0;
    this.lastPromise = undefined;
    this.lastSettlement = undefined;
  }

  private flush(): void {
    let progressed = false;
    while (!this.stopped && this.head < this.outcomes.length) {
      const settlement = this.settlements[this.head]!;
      if (!settlement.done) break;
      const outcome = this.outcomes[this.head]!;
      this.head++;
      progressed = true;
      this.report(outcome, settlement);
    }
    if (this.head === this.outcomes.length) {
      this.outcomes = [];
      this.settlements = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.outcomes.length) {
      this.outcomes = this.outcomes.slice(this.head);
      this.settlements = this.settlements.slice(this.head);
      this.head = 0;
    }
    if (progressed && !this.stopped) this.sink.progressed();
  }

  private report(outcome: Outcome, settlement: Settlement): void {
    if (settlement.failed) {
      this.sink.error(settlement.error, outcome);
      return;
    }
    if (outcome.receipt !== undefined) this.sink.receipt(outcome.receipt);
    outcome.after?.();
  }
}
