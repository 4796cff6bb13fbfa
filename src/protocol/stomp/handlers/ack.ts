/**
 * ACK / NACK (1.2 "ACK", "NACK"; NACK is 1.1+). Which delivery is meant depends on the version:
 *   1.2  `id` = the MESSAGE's `ack` header, our (subscription, tag) pair (ack-id.ts)
 *   1.1  `subscription` + `message-id`
 *   1.0  `message-id` (the first subscription holding it unacked)
 * In `client` mode an ACK is cumulative; a NACK always concerns one message. Acking something that is
 * not awaiting an ack (unknown, already acked, or from an `auto` subscription) is an error.
 */
import { BlazeError } from '../../../util/errors.js';
import { encodeAckId, parseAckIndex } from '../ack-id.js';
import { emptyHeaders, type StompFrame } from '../codec/frame.js';
import { missingHeader } from '../errors.js';
import type { StompSession } from '../session.js';
import type { StompSubscription } from '../subscriptions.js';

export function handleAck(session: StompSession, frame: StompFrame): void {
  const sub = resolveDelivery(session, frame);
  const tag = found[0]!;
  const tx = session.transactionOf(frame);
  const durable = sub.core!.ack(tag, tx);
  sub.settle(tag, sub.ackMode === 'cumulative');
  // A receipted ACK is confirmed once the dequeue is durable: a crash after the RECEIPT never brings
  // the message back. Without a receipt there is nothing to confirm, so nothing waits.
  if (durable instanceof Promise && frame.headers['receipt'] !== undefined) session.track(durable, frame);
  else session.done(frame);
}

/**
 * A 1.2 ACK decoded by the fast path (StompDecoder.nextAck), `ACK\nid:<index>-<tag>` without other
 * headers: does what handleAck does and returns true, or returns false having done nothing when the id
 * names no delivery awaiting an ack, so that the caller hands `ackFrame` to handleAck for the ordinary
 * error. Throws what the core throws, like handleAck.
 */
export function handleFastAck(session: StompSession, index: number, tag: number): boolean {
  const sub = session.subscriptions.byAckIndex(index);
  if (sub === undefined || sub.core === null || !sub.unacked.has(tag)) return false;
  sub.core.ack(tag, undefined);
  sub.settle(tag, sub.ackMode === 'cumulative');
  return true;
}

/** The frame the fast path stands for, for the ordinary handler and for errors. */
export function ackFrame(index: number, tag: number): StompFrame {
  const headers = emptyHeaders();
  headers['id'] = encodeAckId(index, tag);
  return { command: 'ACK', headers, body: EMPTY };
}

const EMPTY = Buffer.alloc(0);

export function handleNack(session: StompSession, frame: StompFrame): void {
  const sub = resolveDelivery(session, frame);
  const tag = found[0]!;
  const tx = session.transactionOf(frame);
  const durable = sub.core!.nack(tag, tx);
  sub.settle(tag, false);
  if (durable instanceof Promise && frame.headers['receipt'] !== undefined) session.track(durable, frame);
  else session.done(frame);
}

/**
 * The tag of the delivery found by resolveDelivery (and scratch for parseAckIndex): handlers run
 * synchronously, one at a time, and every ACK goes through here, so no result object per frame.
 */
const found = [0];

/** The subscription holding the delivery the frame names; its tag is left in `found[0]`. */
function resolveDelivery(session: StompSession, frame: StompFrame): StompSubscription {
  const h = frame.headers;
  if (session.version === '1.2') {
    const id = h['id'];
    if (id === undefined) throw missingHeader(frame.command, 'id');
    const index = parseAckIndex(id, found);
    const sub = index < 0 ? undefined : session.subscriptions.byAckIndex(index);
    if (sub === undefined || !sub.unacked.has(found[0]!)) {
      throw new BlazeError('NOT_FOUND', `${frame.command} of unknown ack id '${id}'`);
    }
    return sub;
  }
  const messageId = h['message-id'];
  if (messageId === undefined) throw missingHeader(frame.command, 'message-id');
  const subId = h['subscription'];
  if (subId === undefined && session.version === '1.1') throw missingHeader(frame.command, 'subscription');
  if (subId !== undefined) {
    const sub = session.subscriptions.get(subId);
    const tag = sub?.tagsByMessageId?.get(messageId);
    if (sub !== undefined && tag !== undefined) {
      found[0] = tag;
      return sub;
    }
    throw new BlazeError(
      'NOT_FOUND',
      `${frame.command} of unknown message-id '${messageId}' on subscription '${subId}'`,
    );
  }
  for (const sub of session.subscriptions.values()) {
    const tag = sub.tagsByMessageId?.get(messageId);
    if (tag !== undefined) {
      found[0] = tag;
      return sub;
    }
  }
  throw new BlazeError('NOT_FOUND', `${frame.command} of unknown message-id '${messageId}'`);
}
