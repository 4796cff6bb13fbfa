/**
 * A transaction manager: presumed-abort two-phase commit (X/Open DTP, C193 §2.3; Gray & Reuter 10.4)
 * over ResourceManagers, with the coordinator's commit decision in a DecisionLog.
 *
 * run(work, resources):
 *   1. start a branch on every resource (xid = gtrid + the resource's name);
 *   2. work(tx); if it throws, end(fail) and roll every branch back, rethrow;
 *   3. end(success) on every branch;
 *   4. one resource: commit it in one phase (no prepare, no log) - the one-phase optimisation;
 *   5. prepare every branch; any failure: roll them all back (XA_ROLLED_BACK);
 *      'readonly' branches are finished and drop out;
 *   6. write the commit decision durably: the commit point;
 *   7. commit every prepared branch; then forget the decision. A branch that fails to commit stays
 *      prepared and its decision stays logged: run() rejects with XA_COMMIT_INCOMPLETE (the transaction
 *      IS committed) and recover() finishes it.
 *
 * recover(resources): for each resource's prepared branches that this TM made (its format id, its tmId,
 * the resource's own name): commit those whose gtrid has a decision, roll back the rest (presumed abort);
 * then forget each decision all of whose resources were recovered here and hold nothing of it. Branches
 * of transactions that run() is driving in this process right now are not touched.
 */
import { ClientError } from '../codec/errors.js';
import type { Xid } from '../xa.js';
import type { DecisionLog } from './decision-log.js';
import type { ResourceManager } from './resource.js';
import { branchXid, checkName, MAX_NAME_BYTES, MAX_TM_ID_BYTES, newGtrid, parseXid } from './xid.js';

export const TmCodes = {
  /** The transaction rolled back (a branch failed to end or prepare, or the decision could not be logged). */
  XA_ROLLED_BACK: 'XA_ROLLED_BACK',
  /** Committed (decision logged), but some branch did not confirm its commit: recover() finishes it. */
  XA_COMMIT_INCOMPLETE: 'XA_COMMIT_INCOMPLETE',
  /** recover() could not reach some resource, or finish some branch; run it again. */
  XA_RECOVERY_INCOMPLETE: 'XA_RECOVERY_INCOMPLETE',
} as const;

export type TmEvent =
  | { type: 'started'; gtrid: string }
  | { type: 'prepared'; gtrid: string; prepared: readonly string[] }
  | { type: 'decided'; gtrid: string; resources: readonly string[] }
  | { type: 'committed'; gtrid: string }
  | { type: 'rolled-back'; gtrid: string; reason: unknown }
  | { type: 'recovered'; gtrid: string; resource: string; outcome: 'commit' | 'rollback' };

export interface TransactionManagerOptions {
  log: DecisionLog;
  /**
   * This coordinator's identity, the prefix of every gtrid: recovery touches only branches with it, so
   * several TMs can share resources. One process (one log) per tmId. 1..40 bytes, no ':'. Default 'tm'.
   */
  tmId?: string;
  /** Observer of each step (logging, metrics, tests). Must not throw. */
  onEvent?: (event: TmEvent) => void;
}

/** What work() gets: the transaction's id; the work itself goes through the resources. */
export interface TxContext {
  readonly gtrid: string;
  xid(resource: ResourceManager): Xid;
}

export interface RecoveryReport {
  committed: number;
  rolledBack: number;
  /** Decisions still logged (a resource missing from the call, or a commit that failed). */
  pendingDecisions: number;
}

export class TransactionManager {
  readonly tmId: string;
  private readonly log: DecisionLog;
  private readonly onEvent: (e: TmEvent) => void;
  /** gtrids run() is driving now; recovery leaves their branches alone. */
  private readonly active = new Set<string>();

  constructor(options: TransactionManagerOptions) {
    this.log = options.log;
    this.tmId = options.tmId ?? 'tm';
    checkName('tmId', this.tmId, MAX_TM_ID_BYTES);
    this.onEvent = options.onEvent ?? (() => {});
  }

  async run<T>(work: (tx: TxContext) => Promise<T>, resources: readonly ResourceManager[]): Promise<T> {
    checkResources(resources);
    const gtrid = newGtrid(this.tmId);
    const xids = new Map(resources.map((r) => [r, branchXid(gtrid, r.name)]));
    const xidOf = (r: ResourceManager): Xid => {
      const x = xids.get(r);
      if (x === undefined) throw new RangeError(`${r.name} is not a resource of this transaction`);
      return x;
    };
    this.active.add(gtrid);
    try {
      const started: ResourceManager[] = [];
      try {
        for (const r of resources) {
          await r.start(xidOf(r));
          started.push(r);
        }
      } catch (e) {
        await this.rollbackAll(gtrid, started, xidOf, e, true);
        throw e;
      }
      this.onEvent({ type: 'started', gtrid });

      let result: T;
      try {
        result = await work({ gtrid, xid: xidOf });
      } catch (e) {
        await this.rollbackAll(gtrid, resources, xidOf, e, true);
        throw e;
      }

      const ends = await Promise.allSettled(resources.map((r) => r.end(xidOf(r), true)));
      const endFailure = firstFailure(ends);
      if (endFailure !== undefined) {
        // The branches whose end failed may still be associated: end(TMFAIL) them before rolling back.
        await this.rollbackAll(gtrid, resources, xidOf, endFailure, true);
        throw rolledBack(gtrid, 'a branch failed to end', endFailure);
      }

      if (resources.length === 1) {
        // One-phase optimisation (XA xa_commit with TMONEPHASE): nothing to coordinate, no log write.
        const only = resources[0]!;
        try {
          await only.commit(xidOf(only), true);
        } catch (e) {
          this.onEvent({ type: 'rolled-back', gtrid, reason: e });
          throw e;
        }
        this.onEvent({ type: 'committed', gtrid });
        return result;
      }

      const votes = await Promise.allSettled(resources.map((r) => r.prepare(xidOf(r))));
      const prepareFailure = firstFailure(votes);
      if (prepareFailure !== undefined) {
        // Read-only voters are already finished; rolling back everyone else includes prepared branches.
        const toRollBack = resources.filter(
          (_, i) =>
            votes[i]!.status === 'rejected' ||
            (votes[i] as PromiseFulfilledResult<string>).value !== 'readonly',
        );
        await this.rollbackAll(gtrid, toRollBack, xidOf, prepareFailure, false);
        throw rolledBack(gtrid, 'a branch failed to prepare', prepareFailure);
      }
      const prepared = resources.filter(
        (_, i) => (votes[i] as PromiseFulfilledResult<string>).value === 'prepared',
      );
      this.onEvent({ type: 'prepared', gtrid, prepared: prepared.map((r) => r.name) });
      if (prepared.length === 0) {
        this.onEvent({ type: 'committed', gtrid });
        return result;
      }

      // Logged even when read-only votes left a single prepared branch: a commit of it that fails
      // (connection lost) would otherwise leave its outcome unknown to the caller.
      const names = prepared.map((r) => r.name);
      try {
        await this.log.commit({ gtrid, resources: names });
      } catch (e) {
        await this.rollbackAll(gtrid, prepared, xidOf, e, false);
        throw rolledBack(gtrid, 'the commit decision could not be logged', e);
      }
      this.onEvent({ type: 'decided', gtrid, resources: names });

      const commits = await Promise.allSettled(prepared.map((r) => r.commit(xidOf(r), false)));
      const commitFailure = firstFailure(commits);
      if (commitFailure !== undefined) {
        const failed = prepared.filter((_, i) => commits[i]!.status === 'rejected').map((r) => r.name);
        throw new ClientError(
          TmCodes.XA_COMMIT_INCOMPLETE,
          `transaction ${gtrid} is committed, but ${failed.join(', ')} did not confirm: recover() finishes it`,
          { cause: commitFailure },
        );
      }
      await this.log.forget(gtrid).catch(() => {});
      this.onEvent({ type: 'committed', gtrid });
      return result;
    } finally {
      this.active.delete(gtrid);
    }
  }

  /**
   * Finishes what a crash (of this coordinator or of a resource) left prepared. Call it at start-up with
   * every resource this TM uses, before new work; it is also safe while run() is in progress.
   */
  async recover(resources: readonly ResourceManager[]): Promise<RecoveryReport> {
    checkResources(resources);
    const decisions = new Map((await this.log.pending()).map((d) => [d.gtrid, d]));
    const report: RecoveryReport = { committed: 0, rolledBack: 0, pendingDecisions: 0 };
    const recovered = new Set<string>();
    /** gtrids that some resource still holds prepared after this pass. */
    const unfinished = new Set<string>();
    const failures: unknown[] = [];

    for (const r of resources) {
      let xids: Xid[];
      try {
        xids = await r.recover();
      } catch (e) {
        failures.push(e);
        continue;
      }
      let complete = true;
      for (const xid of xids) {
        const mine = parseXid(xid, this.tmId);
        if (mine === undefined || mine.resource !== r.name || this.active.has(mine.gtrid)) continue;
        const commit = decisions.has(mine.gtrid);
        try {
          if (commit) await r.commit(xid, false);
          else await r.rollback(xid);
        } catch (e) {
          failures.push(e);
          unfinished.add(mine.gtrid);
          complete = false;
          continue;
        }
        if (commit) report.committed++;
        else report.rolledBack++;
        this.onEvent({
          type: 'recovered',
          gtrid: mine.gtrid,
          resource: r.name,
          outcome: commit ? 'commit' : 'rollback',
        });
      }
      if (complete) recovered.add(r.name);
    }

    for (const d of decisions.values()) {
      if (this.active.has(d.gtrid)) continue;
      if (!unfinished.has(d.gtrid) && d.resources.every((n) => recovered.has(n))) {
        await this.log.forget(d.gtrid);
      } else {
        report.pendingDecisions++;
      }
    }
    if (failures.length > 0) {
      throw new ClientError(
        TmCodes.XA_RECOVERY_INCOMPLETE,
        `recovery left work undone (${failures.length} failure(s)); run it again`,
        { cause: failures.length === 1 ? failures[0] : new AggregateError(failures) },
      );
    }
    return report;
  }

  close(): Promise<void> {
    return this.log.close();
  }

  private async rollbackAll(
    gtrid: string,
    resources: readonly ResourceManager[],
    xidOf: (r: ResourceManager) => Xid,
    reason: unknown,
    endFirst: boolean,
  ): Promise<void> {
    // Best effort: a branch that cannot be reached now is rolled back by its resource when the connection
    // closes (if not prepared), or by recover() (prepared, no decision: presumed abort).
    await Promise.allSettled(
      resources.map(async (r) => {
        if (endFirst) await r.end(xidOf(r), false).catch(() => {});
        await r.rollback(xidOf(r));
      }),
    );
    this.onEvent({ type: 'rolled-back', gtrid, reason });
  }
}

function checkResources(resources: readonly ResourceManager[]): void {
  if (resources.length === 0) throw new RangeError('a transaction needs at least one resource');
  const names = new Set<string>();
  for (const r of resources) {
    checkName('resource name', r.name, MAX_NAME_BYTES);
    if (names.has(r.name)) throw new RangeError(`two resources are named ${r.name}`);
    names.add(r.name);
  }
}

function firstFailure(results: readonly PromiseSettledResult<unknown>[]): unknown {
  for (const r of results) if (r.status === 'rejected') return r.reason ?? new Error('rejected');
  return undefined;
}

function rolledBack(gtrid: string, why: string, cause: unknown): ClientError {
  return new ClientError(TmCodes.XA_ROLLED_BACK, `transaction ${gtrid} rolled back: ${why}`, { cause });
}
