/**
 * One request sent to a set of members and repeated until each has answered or the time is up: the
 * building block of every step of a view change (prepare, install, merge request).
 */
import type { Clock, Timer } from '../clock.js';

export class Round {
  private readonly pending: Set<string>;
  private retryTimer: Timer | undefined;
  private deadline: Timer | undefined;
  private finished = false;

  constructor(
    clock: Clock,
    targets: Iterable<string>,
    private readonly send: (to: string) => void,
    retry: number,
    timeout: number,
    private readonly onComplete: (missing: string[]) => void,
  ) {
    this.pending = new Set(targets);
    if (this.pending.size === 0) {
      // Completes on the next turn, so callers can finish setting up before the callback runs.
      this.deadline = clock.setTimer(0, () => this.finish());
      return;
    }
    for (const t of this.pending) send(t);
    const again = () => {
      if (this.finished) return;
      for (const t of this.pending) this.send(t);
      this.retryTimer = clock.setTimer(retry, again);
    };
    this.retryTimer = clock.setTimer(retry, again);
    this.deadline = clock.setTimer(timeout, () => this.finish());
  }

  /** Records an answer; returns false if `from` was not (or no longer) awaited. */
  answer(from: string): boolean {
    if (this.finished || !this.pending.delete(from)) return false;
    if (this.pending.size === 0) this.finish();
    return true;
  }

  /** Stops waiting for `member` (it departed). */
  drop(member: string): void {
    this.answer(member);
  }

  get done(): boolean {
    return this.finished;
  }

  cancel(): void {
    this.finished = true;
    this.retryTimer?.cancel();
    this.deadline?.cancel();
  }

  private finish(): void {
    if (this.finished) return;
    this.cancel();
    this.onComplete([...this.pending]);
  }
}
