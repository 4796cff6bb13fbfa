/**
 * Coalesces the store operations of one synchronous turn into a single `MessageStore.write` call (one
 * atomic batch, flushed on a microtask). Producers of persistent messages and committers wait on the
 * batch's promise; fire-and-forget operations (acks, delivery counts) ride along without allocating
 * a promise of their own. This is what lets a journal group-commit: many sends, one fdatasync.
 */

import { BlazeError, isBlazeError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import type { MessageStore, StoreOp } from './store.js';

/**
 * The one promise returned by every operation the core accepted synchronously (non-persistent sends,
 * commits with nothing to store). Callers may compare against it (`p === ACCEPTED`) to skip waiting a
 * microtask per message on the hot path.
 */
export const ACCEPTED: Promise<void> = Promise.resolve();
export const RESOLVED = ACCEPTED;

export class StoreWriter {
  private ops: StoreOp[] = [];
  private waiter: Promise<void> | undefined;
  private resolveWaiter: (() => void) | undefined;
  private rejectWaiter: ((e: unknown) => void) | undefined;
  private lastWrite: Promise<void> = RESOLVED;
  /** The last `MessageStore.write` itself: rejects when it failed (lastWrite never does). */
  private lastIssued: Promise<void> = RESOLVED;
  private readonly flushBound = () => this.flush();

  constructor(
    private readonly store: MessageStore,
    private readonly log: Logger,
  ) {}

  add(op: StoreOp): void {
    if (this.ops.length === 0) queueMicrotask(this.flushBound);
    this.ops.push(op);
  }

  /** Operations added since the last flush (to tell whether a call stored anything). */
  get pending(): number {
    return this.ops.length;
  }

  /** Promise of the current batch (resolves when it is durable), or RESOLVED when nothing is pending. */
  durable(): Promise<void> {
    if (this.ops.length === 0) return RESOLVED;
    if (this.waiter === undefined) {
      this.waiter = new Promise<void>((resolve, reject) => {
        this.resolveWaiter = resolve;
        this.rejectWaiter = reject;
      });
    }
    return this.waiter;
  }

  /**
   * Resolves once every operation added so far is durable, rejects if its batch failed. Stores resolve
   * writes in call order, so the newest batch stands for all earlier ones.
   */
  flushed(): Promise<void> {
    return this.ops.length > 0 ? this.durable() : this.lastIssued;
  }

  /** Resolves once every batch issued so far is durable (shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await this.lastWrite.catch(() => {});
  }

  private flush(): void {
    if (this.ops.length === 0) return;
    const ops = this.ops;
    const resolve = this.resolveWaiter;
    const reject = this.rejectWaiter;
    this.ops = [];
    this.waiter = this.resolveWaiter = this.rejectWaiter = undefined;
    let p: Promise<void>;
    try {
      p = this.store.write(ops);
    } catch (e) {
      p = Promise.reject(e);
    }
    this.lastIssued = p;
    this.lastWrite = p.then(
      () => resolve?.(),
      (e: unknown) => {
        const err = isBlazeError(e) ? e : new BlazeError('STORE', 'store write failed', { cause: e });
        // Nobody waits on a batch of acks only; the failure must still be visible.
        if (reject === undefined) this.log.error({ err, ops: ops.length }, 'store write failed');
        else reject(err);
      },
    );
  }
}
