/**
 * Keeps a connection's replies in frame order. Operations complete out of order (a non-persistent SEND
 * resolves before an earlier persistent one is durable), but a client reads RECEIPT n as "everything up
 * to frame n is done", so each outcome waits for every earlier one. An error is an outcome too: it is
 * reported (ERROR + close) after the receipts of the frames that preceded it.
 */
import { InOrder, type Settlement } from '../../util/in-order.js';

export interface Outcome {
  /** `receipt` header of the frame, if any. */
  readonly receipt: string | undefined;
  /** Command of the frame, for error messages. */
  readonly command: string;
  /** Runs once earlier outcomes are out and this one succeeded (DISCONNECT closes here). */
  readonly after?: (() => void) | undefined;
}

export interface CompletionSink {
  receipt(receiptId: string): void;
  error(error: unknown, outcome: Outcome): void;
  /** The number of pending operations went down. */
  progressed(): void;
}

export class OrderedCompletions {
  private readonly inOrder: InOrder<Outcome>;

  constructor(private readonly sink: CompletionSink) {
    this.inOrder = new InOrder<Outcome>(
      (outcome, settlement) => this.report(outcome, settlement),
      () => sink.progressed(),
    );
  }

  /** Operations not reported yet, finished or not. */
  get pending(): number {
    return this.inOrder.pending;
  }

  /** An operation that has already succeeded. */
  succeeded(outcome: Outcome): void {
    if (outcome.receipt === undefined && outcome.after === undefined) return;
    this.inOrder.succeeded(outcome);
  }

  /** An operation that has already failed. */
  failed(error: unknown, outcome: Outcome): void {
    this.inOrder.failed(outcome, error);
  }

  /** An operation in progress. */
  track(promise: Promise<void>, outcome: Outcome): void {
    this.inOrder.track(outcome, promise);
  }

  /** Nothing more is reported (the connection is closing). */
  stop(): void {
    this.inOrder.stop();
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
