/**
 * ACK / NACK (1.2 "ACK", "NACK"; NACK is 1.1+). Which delivery is meant depends on the version:
 *   1.2  `id` = the MESSAGE's `ack` header, our (subscription, tag) pair (ack-id.ts)
 *   1.1  `subscription` + `message-id`
 *   1.0  `message-id` (the first subscription holding it unacked)
 * In `client` mode an ACK is cumulative; a NACK always concerns one message. Acking something that is
 * not awaiting an ack (unknown, already acked, or from an `auto` subscription) is an error.
 */
import { BlazeError } from '../../../util/errors.js';
import { parseAckIndex } from '../ack-id.js';
import type { StompFrame } from '../codec/frame.js';
import { missingHeader } from '../errors.js';
import type { StompSession } from '../session.js';
import type { StompSubscription } from '../subscriptions.js';

export function handleAck(session: StompSession, frame: StompFrame): void {
  const { sub, tag } = resolveDelivery(session, frame);
  const tx = session.transactionOf(frame);
  sub.core!.ack(tag, tx);
  sub.settle(tag, sub.ackMode === 'cumulative');
  session.done(frame);
}

export function handleNack(session: StompSession, frame: StompFrame): void {
  const { sub, tag } = resolveDelivery(session, frame);
  const tx = session.transactionOf(frame);
  sub.core!.nack(tag, tx);
  sub.settle(tag, false);
  session.done(frame);
}

/** Scratch for parseAckIndex (handlers run synchronously, one at a time). */
const tagOut = [0];

function resolveDelivery(session: StompSession, frame: StompFrame): { sub: StompSubscription; tag: number } {
  const h = frame.headers;
  if (session.version === '1.2') {
    const id = h['id'];
    if (id === undefined) throw missingHeader(frame.command, 'id');
    const index = parseAckIndex(id, tagOut);
    const sub = index < 0 ? undefined : session.subscriptions.byAckIndex(index);
    if (sub === undefined || !sub.unacked.has(tagOut[0]!)) {
      throw new BlazeError('NOT_FOUND', `${frame.command} of unknown ack id '${id}'`);
    }
    return { sub, tag: tagOut[0]! };
  }
  const messageId = h['message-id'];
  if (messageId === undefined) throw missingHeader(frame.command, 'message-id');
  const subId = h['subscription'];
  if (subId === undefined && session.version === '1.1') throw missingHeader(frame.command, 'subscription');
  if (subId !== undefined) {
    const sub = session.subscriptions.get(subId);
    const tag = sub?.tagsByMessageId?.get(messageId);
    if (sub !== undefined && tag !== undefined) return { sub, tag };
    throw new BlazeError(
      'NOT_FOUND',
      `${frame.command} of unknown message-id '${messageId}' on subscription '${subId}'`,
    );
  }
  for (const sub of session.subscriptions.values()) {
    const tag = sub.tagsByMessageId?.get(messageId);
    if (tag !== undefined) return { sub, tag };
  }
  throw new BlazeError('NOT_FOUND', `${frame.command} of unknown message-id '${messageId}'`);
}
