/**
 * Local transactions (TxBegin/TxCommit/TxRollback) and XA branches (XaStart...XaRecover).
 *
 * Local: a transaction id is the client's, used as the core transaction id; Send/Ack/Nack carrying it
 * join it. Commit is answered once durable (api.ts CoreConnection.commit).
 *
 * XA: mapped one to one onto CoreConnection's XA calls (core/xa.ts has the semantics and the XA_*
 * error codes). native.proto XaPrepare: a read-only branch is answered Error code XA_RDONLY.
 *
 * Duplicate detection (producers.ts): the sequences a transaction holds become accepted in the same
 * synchronous turn as its commit, so that their record joins the commit's store batch. Whether the
 * commit went through has to be known in that turn, before the core's promise settles: for a local
 * transaction the session knows it began it; a prepared branch is listed by `xaRecover` before and not
 * after; a one-phase commit is predicted by xa-mirror.ts.
 */
import type { CoreConnection, Xid } from '../../../core/api.js';
import { xidKey } from '../../../core/index.js';
import { ACCEPTED } from '../../../core/store-writer.js';
import { BlazeError, isBlazeError } from '../../../util/errors.js';
import { encodeFrame } from '../codec/encode.js';
import type { RequestOnly, TxFrame, WireXid, XaCommit, XaEnd, XaStart, XaXid } from '../codec/types.js';
import { localTxKey, type NativeSession, xaTxKey } from '../session.js';

export function handleTxBegin(session: NativeSession, f: TxFrame): void {
  if (f.tx_id === '') throw new BlazeError('BAD_REQUEST', 'TxBegin without a tx_id');
  const max = session.settings.limits.maxTransactions;
  if (session.transactions.size >= max) {
    throw new BlazeError('LIMIT_EXCEEDED', `at most ${max} open transactions per connection`);
  }
  session.conn.begin(f.tx_id);
  session.transactions.add(f.tx_id);
  session.ok(f.request_id);
}

export function handleTxCommit(session: NativeSession, f: TxFrame): void {
  // The core refuses only a transaction this connection has not begun (or an XA branch's tx_id).
  const known = session.transactions.delete(f.tx_id);
  const promise = session.conn.commit(f.tx_id);
  if (known) session.producers.commitTransaction(localTxKey(session.serial, f.tx_id));
  session.track(f.request_id, promise);
}

export function handleTxRollback(session: NativeSession, f: TxFrame): void {
  session.conn.rollback(f.tx_id);
  session.transactions.delete(f.tx_id);
  session.producers.abortTransaction(localTxKey(session.serial, f.tx_id));
  session.ok(f.request_id);
}

// ---------------------------------------------------------------------------------------------- XA

/** native.proto Xid -> core Xid; the core checks the part sizes (core/xa.ts checkXid). */
function xidOf(x: WireXid | null): Xid {
  if (x === null) throw new BlazeError('BAD_REQUEST', 'XA frame without an xid');
  return {
    formatId: x.format_id,
    // Copied: the wire bytes are a view of a socket chunk, and a prepared branch outlives it.
    globalId: new Uint8Array(x.global_transaction_id),
    branchId: new Uint8Array(x.branch_qualifier),
  };
}

/** Error with a wire code outside BlazeError's (XA_RDONLY is an outcome, not a failure of the broker). */
export class WireCodeError extends Error {
  constructor(
    readonly wireCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'WireCodeError';
  }
}

export function handleXaStart(session: NativeSession, f: XaStart): void {
  if (f.tx_id === '') throw new BlazeError('BAD_REQUEST', 'XaStart without a tx_id');
  const xid = xidOf(f.xid);
  session.conn.xaStart(xid, f.tx_id, f.flags);
  const key = xidKey(xid);
  session.xaBound.set(f.tx_id, key);
  session.xaWorked.add(key);
  session.producers.xa.started(key, session.serial, f.flags);
  session.ok(f.request_id);
}

export function handleXaEnd(session: NativeSession, f: XaEnd): void {
  const xid = xidOf(f.xid);
  const flags = f.flags === 0 ? undefined : f.flags;
  session.conn.xaEnd(xid, flags);
  const key = xidKey(xid);
  // api.ts: xaEnd unbinds the txId (a suspended branch is resumed by XaStart with a txId again).
  for (const [txId, bound] of session.xaBound) if (bound === key) session.xaBound.delete(txId);
  session.producers.xa.ended(key, session.serial, flags);
  session.ok(f.request_id);
}

/** Whether the core lists `key` as prepared: exact and synchronous (core/xa.ts recover). */
function isPrepared(conn: CoreConnection, key: string): boolean {
  return conn.xaRecover().some((x) => xidKey(x) === key);
}

/** A branch ended without committing (read-only, rolled back): its held sequences are released. */
function released(session: NativeSession, key: string): void {
  session.producers.abortTransaction(xaTxKey(key));
  session.producers.xa.forget(key);
}

function rolledBackBy(e: unknown): boolean {
  return isBlazeError(e) && e.code.startsWith('XA_RB');
}

export function handleXaPrepare(session: NativeSession, f: XaXid): void {
  const xid = xidOf(f.xid);
  const key = xidKey(xid);
  const conn = session.conn;
  const prepared = conn.xaPrepare(xid);
  // Same turn as the core's `xa-prepare` record: the held sequences survive a restart with the branch.
  const producers = session.producers;
  if (producers.holds(xaTxKey(key)) && isPrepared(conn, key)) producers.prepareTransaction(xaTxKey(key));
  const outcome = prepared.then(
    (r) => {
      producers.xa.forget(key);
      if (r === 'readonly') {
        released(session, key);
        throw new WireCodeError('XA_RDONLY', 'the branch did nothing and is forgotten');
      }
    },
    (e: unknown) => {
      if (rolledBackBy(e)) released(session, key);
      throw e;
    },
  );
  session.track(f.request_id, outcome);
}

export function handleXaCommit(session: NativeSession, f: XaCommit): void {
  const xid = xidOf(f.xid);
  const key = xidKey(xid);
  const conn = session.conn;
  const producers = session.producers;
  const txKey = xaTxKey(key);
  if (!producers.holds(txKey)) {
    session.track(f.request_id, conn.xaCommit(xid, f.one_phase));
    producers.xa.forget(key);
    return;
  }
  const wasPrepared = isPrepared(conn, key);
  const onePhase = f.one_phase && !wasPrepared && producers.xa.onePhaseWillCommit(key);
  const result = conn.xaCommit(xid, f.one_phase);
  const committed = f.one_phase ? onePhase : wasPrepared && !isPrepared(conn, key);
  if (committed) {
    producers.commitTransaction(txKey);
    producers.xa.forget(key);
  }
  session.track(
    f.request_id,
    result.catch((e: unknown) => {
      if (committed) session.log.warn({ xid: key }, 'XA commit predicted to succeed was refused');
      else if (rolledBackBy(e)) released(session, key);
      throw e;
    }),
  );
}

export function handleXaRollback(session: NativeSession, f: XaXid): void {
  const xid = xidOf(f.xid);
  const key = xidKey(xid);
  const conn = session.conn;
  const wasPrepared = session.producers.isPrepared(xaTxKey(key)) && isPrepared(conn, key);
  const result = conn.xaRollback(xid);
  // A prepared branch's record of held sequences is deleted in the rollback's own store batch.
  if (wasPrepared && !isPrepared(conn, key)) released(session, key);
  session.track(
    f.request_id,
    result.then(() => released(session, key)),
  );
}

export function handleXaRecover(session: NativeSession, f: RequestOnly): void {
  const xids = session.conn.xaRecover().map((x) => ({
    format_id: x.formatId,
    global_transaction_id: x.globalId,
    branch_qualifier: x.branchId,
  }));
  session.track(f.request_id, ACCEPTED, () =>
    encodeFrame('xa_recovered', { request_id: f.request_id, xids }),
  );
}
