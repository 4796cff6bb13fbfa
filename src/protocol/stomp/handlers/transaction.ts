/**
 * BEGIN / COMMIT / ABORT (1.2 "BEGIN", "COMMIT", "ABORT"). Transaction names are per connection; the
 * core's CoreConnection scopes them too. COMMIT's RECEIPT waits for the commit to be durable. A
 * connection that closes mid-transaction has it rolled back by CoreConnection.close.
 */
import { BlazeError } from '../../../util/errors.js';
import type { StompFrame } from '../codec/frame.js';
import type { StompSession } from '../session.js';

export function handleBegin(session: StompSession, frame: StompFrame): void {
  const tx = session.requireHeader(frame, 'transaction');
  if (session.transactions.has(tx)) throw new BlazeError('CONFLICT', `Transaction '${tx}' is already open`);
  const max = session.settings.limits.maxTransactions;
  if (session.transactions.size >= max)
    throw new BlazeError('LIMIT_EXCEEDED', `At most ${max} open transactions`);
  session.conn.begin(tx);
  session.transactions.add(tx);
  session.done(frame);
}

export function handleCommit(session: StompSession, frame: StompFrame): void {
  const tx = openTransaction(session, frame);
  session.transactions.delete(tx);
  session.track(session.conn.commit(tx), frame);
}

export function handleAbort(session: StompSession, frame: StompFrame): void {
  const tx = openTransaction(session, frame);
  session.transactions.delete(tx);
  session.conn.rollback(tx);
  session.done(frame);
}

function openTransaction(session: StompSession, frame: StompFrame): string {
  const tx = session.requireHeader(frame, 'transaction');
  if (!session.transactions.has(tx)) throw new BlazeError('NOT_FOUND', `Unknown transaction '${tx}'`);
  return tx;
}
