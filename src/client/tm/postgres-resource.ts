/**
 * A PostgreSQL connection as a ResourceManager, with PostgreSQL's own two-phase commit
 * (https://www.postgresql.org/docs/current/sql-prepare-transaction.html):
 *
 *   start    BEGIN                              (the application's queries on this connection join it)
 *   end      - (TMFAIL only remembers that the branch must roll back)
 *   prepare  PREPARE TRANSACTION '<gid>'        (gid = the xid, pg-gid.ts); the connection is free again
 *   commit   COMMIT PREPARED '<gid>'  |  COMMIT (one phase)
 *   rollback ROLLBACK PREPARED '<gid>' | ROLLBACK (not yet prepared)
 *   recover  SELECT gid FROM pg_prepared_xacts WHERE database = current_database()
 *
 * The server needs max_prepared_transactions > 0. PostgreSQL has no read-only vote: every branch
 * prepares. Two PostgreSQL behaviours matter here: PREPARE TRANSACTION (and COMMIT) of a transaction
 * that an earlier statement aborted acts as ROLLBACK and succeeds with command tag "ROLLBACK", so the tag
 * is checked; and COMMIT/ROLLBACK PREPARED must be run in the database that prepared the transaction,
 * hence the filter on current_database().
 *
 * `pg` is not imported: any object with pg's `query(text)` shape works (pg.Client, a checked-out
 * pg.PoolClient), which keeps `blazemq/client` free of a dependency on it.
 */
import { ClientCodes, ClientError } from '../codec/errors.js';
import type { Xid } from '../xa.js';
import { gidToXid, xidToGid } from './pg-gid.js';
import type { ResourceManager } from './resource.js';
import { sameXid } from './xid.js';

/** The part of pg.Client this adapter uses. */
export interface PgQueryable {
  query(text: string): Promise<{ command: string; rows: unknown[] }>;
}

export interface PostgresResourceOptions {
  /** Default 'postgres'. Stable across restarts (see ResourceManager.name). */
  name?: string;
}

/** SQLSTATE 42704 undefined_object: "prepared transaction with identifier ... does not exist". */
const UNDEFINED_OBJECT = '42704';

export class PostgresResource implements ResourceManager {
  readonly name: string;
  /** The branch open on this connection (BEGIN done, not yet prepared or finished). */
  private branch: { xid: Xid; rollbackOnly: boolean } | undefined;

  constructor(
    readonly client: PgQueryable,
    options: PostgresResourceOptions = {},
  ) {
    this.name = options.name ?? 'postgres';
  }

  async start(xid: Xid): Promise<void> {
    if (this.branch !== undefined) {
      throw new ClientError(ClientCodes.ILLEGAL_STATE, `${this.name} is already working in a branch`);
    }
    xidToGid(xid); // validates before anything starts
    await this.client.query('BEGIN');
    this.branch = { xid, rollbackOnly: false };
  }

  async end(xid: Xid, success: boolean): Promise<void> {
    const b = this.local(xid);
    if (b === undefined) throw new ClientError('XA_NOTA', `${this.name}: no active branch with that xid`);
    if (!success) b.rollbackOnly = true;
  }

  async prepare(xid: Xid): Promise<'prepared' | 'readonly'> {
    const b = this.local(xid);
    if (b === undefined) throw new ClientError('XA_NOTA', `${this.name}: no active branch with that xid`);
    this.branch = undefined;
    if (b.rollbackOnly) {
      await this.client.query('ROLLBACK');
      throw new ClientError('XA_RBROLLBACK', `${this.name}: the branch was marked rollback-only`);
    }
    let res: { command: string };
    try {
      res = await this.client.query(`PREPARE TRANSACTION ${literal(xidToGid(xid))}`);
    } catch (e) {
      // E.g. a deferred constraint failing at prepare: the transaction is gone; make sure the session
      // is out of any failed block (ROLLBACK outside a transaction is only a warning).
      await this.client.query('ROLLBACK').catch(() => {});
      throw new ClientError('XA_RBROLLBACK', `${this.name}: PREPARE TRANSACTION failed`, { cause: e });
    }
    if (res.command !== 'PREPARE') {
      throw new ClientError('XA_RBROLLBACK', `${this.name}: the transaction had failed and rolled back`);
    }
    return 'prepared';
  }

  async commit(xid: Xid, onePhase: boolean): Promise<void> {
    if (onePhase) {
      const b = this.local(xid);
      if (b === undefined) throw new ClientError('XA_NOTA', `${this.name}: no active branch with that xid`);
      this.branch = undefined;
      const res = await this.client.query(b.rollbackOnly ? 'ROLLBACK' : 'COMMIT');
      if (b.rollbackOnly || res.command !== 'COMMIT') {
        throw new ClientError('XA_RBROLLBACK', `${this.name}: the transaction rolled back instead`);
      }
      return;
    }
    await this.client.query(`COMMIT PREPARED ${literal(xidToGid(xid))}`);
  }

  async rollback(xid: Xid): Promise<void> {
    if (this.local(xid) !== undefined) {
      this.branch = undefined;
      await this.client.query('ROLLBACK');
      return;
    }
    try {
      await this.client.query(`ROLLBACK PREPARED ${literal(xidToGid(xid))}`);
    } catch (e) {
      if ((e as { code?: string }).code !== UNDEFINED_OBJECT) throw e;
    }
  }

  async recover(): Promise<Xid[]> {
    const res = await this.client.query(
      'SELECT gid FROM pg_prepared_xacts WHERE database = current_database() ORDER BY prepared',
    );
    const xids: Xid[] = [];
    for (const row of res.rows as Array<{ gid: string }>) {
      const xid = gidToXid(row.gid);
      if (xid !== undefined) xids.push(xid);
    }
    return xids;
  }

  private local(xid: Xid): { xid: Xid; rollbackOnly: boolean } | undefined {
    return this.branch !== undefined && sameXid(this.branch.xid, xid) ? this.branch : undefined;
  }
}

/** A gid's alphabet has no quote (pg-gid.ts); doubling quotes keeps this safe for any string anyway. */
function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}
