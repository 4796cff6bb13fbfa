/**
 * What the native layer knows of XA branches, so that duplicate detection (producers.ts) can move a
 * producer's high-water mark in the same synchronous turn as a one-phase commit: the core answers a
 * refused commit with a rejected promise, which is only observable a microtask later, after the commit's
 * store batch is closed. So the session predicts the outcome from the states of core/xa.ts's table that
 * make a one-phase commit fail: an association left (XA_PROTO) or rollback-only (XA_RBROLLBACK).
 * XaStart and XaEnd throw synchronously when refused, so following them here is exact.
 * (Prepared branches need no prediction: `CoreConnection.xaRecover` lists them synchronously.)
 */
import { XA_FLAGS } from '../../core/index.js';

interface BranchState {
  /** Sessions associated with the branch (active or suspended). */
  readonly associations: Set<number>;
  rollbackOnly: boolean;
}

export class XaMirror {
  private readonly branches = new Map<string, BranchState>();

  /** XaStart succeeded on session `session`. */
  started(key: string, session: number, flags: number): void {
    let b = this.branches.get(key);
    if (b === undefined) {
      b = { associations: new Set(), rollbackOnly: false };
      this.branches.set(key, b);
    }
    if (flags !== XA_FLAGS.TMRESUME) b.associations.add(session);
  }

  /** XaEnd succeeded. */
  ended(key: string, session: number, flags: number | undefined): void {
    const b = this.branches.get(key);
    if (b === undefined || flags === XA_FLAGS.TMSUSPEND) return;
    b.associations.delete(session);
    if (flags === XA_FLAGS.TMFAIL) b.rollbackOnly = true;
  }

  /** Whether a one-phase commit of a branch that is not prepared will succeed. */
  onePhaseWillCommit(key: string): boolean {
    const b = this.branches.get(key);
    return b !== undefined && b.associations.size === 0 && !b.rollbackOnly;
  }

  /** The branch is prepared, committed, rolled back or discarded: nothing left to predict. */
  forget(key: string): void {
    this.branches.delete(key);
  }

  /** Session closed: the core rolls back the unprepared branches it worked in (core/xa.ts). */
  sessionClosed(session: number, keys: Iterable<string>): void {
    for (const key of keys) {
      const b = this.branches.get(key);
      if (b !== undefined) b.associations.delete(session);
    }
  }
}
