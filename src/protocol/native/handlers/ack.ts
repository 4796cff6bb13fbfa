/**
 * Ack and Nack (native.proto "consuming"). INDIVIDUAL: each tag on its own. CUMULATIVE: the highest of
 * `up_to` and `tags` acks it and every earlier delivery (the core walks them). AUTO subscriptions have
 * nothing to ack. Answered, when asked, once the acks are durable (api.ts Subscription.ack).
 */
import type { Subscription } from '../../../core/api.js';
import { ACCEPTED } from '../../../core/store-writer.js';
import { BlazeError } from '../../../util/errors.js';
import type { Ack, Nack } from '../codec/types.js';
import type { NativeSession } from '../session.js';

type Settle = (core: Subscription, tag: number, txId: string | undefined) => Promise<void> | void;

const ack: Settle = (core, tag, txId) => core.ack(tag, txId);
const nack: Settle = (core, tag, txId) => core.nack(tag, txId);

function settle(
  session: NativeSession,
  requestId: number,
  subscriptionId: number,
  tags: readonly number[],
  upTo: number,
  txIdRaw: string,
  op: Settle,
): void {
  const sub = session.subscription(subscriptionId);
  const core = sub.core;
  if (core === null) throw new BlazeError('NOT_FOUND', `subscription ${subscriptionId} is not open`);
  if (sub.ackMode === 'auto') {
    throw new BlazeError('BAD_REQUEST', `subscription ${subscriptionId} is acknowledged automatically`);
  }
  const txId = txIdRaw === '' ? undefined : txIdRaw;
  let result: Promise<void> | void = ACCEPTED;
  if (sub.ackMode === 'cumulative') {
    let top = upTo;
    for (const t of tags) if (t > top) top = t;
    if (top === 0) throw new BlazeError('BAD_REQUEST', 'cumulative ack without a tag');
    result = op(core, top, txId);
  } else {
    if (upTo !== 0) throw new BlazeError('BAD_REQUEST', 'up_to is for cumulative subscriptions');
    // The store batch of this turn is the same for every tag: the last promise stands for all.
    for (const t of tags) result = op(core, t, txId);
  }
  session.track(requestId, result ?? ACCEPTED);
}

export function handleAck(session: NativeSession, f: Ack): void {
  settle(session, f.request_id, f.subscription_id, f.tags, f.up_to, f.tx_id, ack);
}

export function handleNack(session: NativeSession, f: Nack): void {
  settle(session, f.request_id, f.subscription_id, f.tags, 0, f.tx_id, nack);
}
