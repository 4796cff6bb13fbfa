/**
 * Local transactions (TxBegin/TxCommit/TxRollback) and XA branches (XaStart...XaRecover).
 *
 * Local: a transaction id is the client's, used as the core transaction id; Send/Ack/Nack carrying it
 * join it. Commit is answered once durable (api.ts CoreConnection.commit).
 *
 * XA: mapped one to one onto CoreConnection's XA calls (core/xa.ts has the semantics and the XA_*
 * error codes). native.proto XaPrepare: a read-only branch is answered Error code XA_RDONLY.
 */
import type { Xid } from '../../../core/api.js';
import { ACCEPTED } from '../../../core/store-writer.js';
import { BlazeError } from '../../../util/errors.js';
import type { RequestOnly, TxFrame, WireXid, XaCommit, XaEnd, XaStart, XaXid } from '../codec/types.js';
import type { NativeSession } from '../session.js';

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
  const promise = session.conn.commit(f.tx_id);
  session.transactions.delete(f.tx_id);
  session.track(f.request_id, promise);
}

export function handleTxRollback(session: NativeSession, f: TxFrame): void {
  session.conn.rollback(f.tx_id);
  session.transactions.delete(f.tx_id);
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
  session.conn.xaStart(xidOf(f.xid), f.tx_id, f.flags);
  session.ok(f.request_id);
}

export function handleXaEnd(session: NativeSession, f: XaEnd): void {
  session.conn.xaEnd(xidOf(f.xid), f.flags === 0 ? undefined : f.flags);
  session.ok(f.request_id);
}

export function handleXaPrepare(session: NativeSession, f: XaXid): void {
  const outcome = session.conn.xaPrepare(xidOf(f.xid)).then((r) => {
    if (r === 'readonly') throw new WireCodeError('XA_RDONLY', 'the branch did nothing and is forgotten');
  });
  session.track(f.request_id, outcome);
}

export function handleXaCommit(session: NativeSession, f: XaCommit): void {
  session.track(f.request_id, session.conn.xaCommit(xidOf(f.xid), f.one_phase));
}

export function handleXaRollback(session: NativeSession, f: XaXid): void {
  session.track(f.request_id, session.conn.xaRollback(xidOf(f.xid)));
}

export function handleXaRecover(session: NativeSession, f: RequestOnly): void {
  const xids = session.conn.xaRecover().map((x) => ({
    format_id: x.formatId,
    global_transaction_id: x.globalId,
    branch_qualifier: x.branchId,
  }));
  session.track(f.request_id, ACCEPTED, () =>
    session.encode('xa_recovered', { request_id: f.request_id, xids }),
  );
}
