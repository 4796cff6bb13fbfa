/**
 * Send and SendBatch with `want_ids` (native.proto version 2): as send.ts, but answered with
 * Ok{message_ids}, the id the core gave each message (`CoreConnection.sendForId`). Kept apart from
 * send.ts so that the hot path (no ids) stays as it is: the same steps, in the same order, with the id
 * taken down on the way.
 *
 * Ids and duplicate detection: a send records its id under (producer_id, sequence) (producers.ts), and a
 * resent duplicate is answered with that first id, or "" once the broker no longer knows it. Inside a
 * transaction the id is assigned when the message is buffered and the message keeps it through commit
 * (core/transaction.ts routes the buffered Message itself), so the client knows it before committing.
 */
import type { MessageInit } from '../../../core/message.js';
import { ACCEPTED } from '../../../core/store-writer.js';
import { BlazeError } from '../../../util/errors.js';
import { encodeOkIds } from '../codec/ok-ids.js';
import type { Send, SendBatch, WireMessage } from '../codec/types.js';
import type { NativeSession } from '../session.js';
import { toMessageInit } from './send.js';

function checkMessage(m: WireMessage): void {
  if (m.address === '') throw new BlazeError('INVALID_ADDRESS', 'Send without a message address');
}

/**
 * `sendForId`, or `send` with no id known when the core connection cannot tell. A refusal becomes a
 * rejected promise, as `send` reports it, so that a batch behaves the same with or without ids.
 */
function routeForId(session: NativeSession, init: MessageInit, txId: string | undefined) {
  const conn = session.conn;
  if (conn.sendForId === undefined) return { id: '', accepted: conn.send(init, txId) };
  try {
    return conn.sendForId(init, txId);
  } catch (e) {
    return { id: '', accepted: Promise.reject(e) };
  }
}

/** send.ts `sendOne`, pushing the message's id (or the first send's, for a duplicate) onto `ids`. */
function sendOneForId(
  session: NativeSession,
  m: WireMessage,
  txId: string | undefined,
  producerId: string,
  sequence: number,
  ids: string[],
): Promise<void> {
  const producers = session.producers;
  const now = session.settings.timers.now();
  if (producerId !== '' && txId !== undefined) {
    const txKey = session.txKeyOf(txId);
    if (txKey !== undefined && producers.isDuplicateInTransaction(txKey, producerId, sequence)) {
      ids.push(producers.idOf(producerId, sequence));
      return ACCEPTED;
    }
    checkMessage(m);
    const sent = routeForId(session, toMessageInit(m, now), txId);
    if (txKey !== undefined && sent.accepted === ACCEPTED) {
      producers.holdInTransaction(txKey, producerId, sequence);
      producers.rememberId(producerId, sequence, sent.id);
    }
    ids.push(sent.id);
    return sent.accepted;
  }
  const dedupe = producerId !== '';
  if (dedupe && producers.isDuplicate(producerId, sequence)) {
    ids.push(producers.idOf(producerId, sequence));
    return ACCEPTED;
  }
  checkMessage(m);
  const sent = routeForId(session, toMessageInit(m, now), txId);
  if (dedupe) {
    producers.accept(producerId, sequence, m.persistent, sent.id);
    if (sent.id !== '') producers.rememberId(producerId, sequence, sent.id);
  }
  ids.push(sent.id);
  return sent.accepted;
}

export function handleSendWithIds(session: NativeSession, f: Send): void {
  const txId = f.tx_id === '' ? undefined : f.tx_id;
  const ids: string[] = [];
  const accepted = sendOneForId(session, f.message, txId, f.producer_id, f.sequence, ids);
  session.track(f.request_id, accepted, () => encodeOkIds(f.request_id, ids));
}

export function handleSendBatchWithIds(session: NativeSession, f: SendBatch): void {
  const txId = f.tx_id === '' ? undefined : f.tx_id;
  for (const m of f.messages) checkMessage(m);
  const ids: string[] = [];
  const waits: Promise<void>[] = [];
  for (let i = 0; i < f.messages.length; i++) {
    const p = sendOneForId(session, f.messages[i]!, txId, f.producer_id, f.first_sequence + i, ids);
    if (p !== ACCEPTED && waits[waits.length - 1] !== p) waits.push(p);
  }
  const all = waits.length === 0 ? ACCEPTED : waits.length === 1 ? waits[0]! : Promise.all(waits);
  session.track(f.request_id, all, () => encodeOkIds(f.request_id, ids));
}
