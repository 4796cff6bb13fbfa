/**
 * What the transaction manager drives: one resource manager connection, in the shape of JTA's
 * `XAResource` (X/Open XA C193 ch. 5: xa_start, xa_end, xa_prepare, xa_commit, xa_rollback, xa_recover).
 * The adapters are BrokerResource (the broker over client.xa) and PostgresResource (PREPARE TRANSACTION).
 *
 * A resource works in one branch at a time (like a JDBC connection): the application does its work
 * through the resource object between start and end.
 */
import type { Xid } from '../xa.js';

export interface ResourceManager {
  /**
   * Stable across restarts and unique among the resources of one TransactionManager: it is the branch
   * qualifier of every xid and the name the decision log records, and recovery matches on it.
   * 1..64 UTF-8 bytes, no ':'.
   */
  readonly name: string;
  /** xa_start(TMNOFLAGS): associates a new branch with this connection. */
  start(xid: Xid): Promise<void>;
  /** xa_end: TMSUCCESS when `success`, else TMFAIL (the branch may only roll back). */
  end(xid: Xid, success: boolean): Promise<void>;
  /** xa_prepare: 'prepared' (durable until commit/rollback) or 'readonly' (did nothing, forgotten). */
  prepare(xid: Xid): Promise<'prepared' | 'readonly'>;
  /** xa_commit; onePhase for a branch that was ended but not prepared (the one-resource case). */
  commit(xid: Xid, onePhase: boolean): Promise<void>;
  /**
   * xa_rollback of an active, ended or prepared branch. Must resolve when the branch is unknown
   * (XAER_NOTA: already rolled back, e.g. with its connection), since rollback is what presumed abort
   * wants anyway.
   */
  rollback(xid: Xid): Promise<void>;
  /** xa_recover: the prepared branches this resource manager holds (any TM's; the TM filters). */
  recover(): Promise<Xid[]>;
}
