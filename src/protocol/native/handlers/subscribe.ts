/**
 * Subscribe, Unsubscribe, Credit, UnsubscribeDurable (native.proto "consuming").
 *
 * The core subscription gets a prefetch large enough never to be the limit (maxUnacked for explicit
 * acks); the client's credit is what bounds deliveries, enforced by the session pausing the core
 * subscription (subscription.ts).
 */
import type { AckMode, SubscribeOptions } from '../../../core/api.js';
import { BlazeError } from '../../../util/errors.js';
import {
  ACK_MODE_AUTO,
  ACK_MODE_CUMULATIVE,
  ACK_MODE_INDIVIDUAL,
  type Credit,
  type Subscribe,
  type Unsubscribe,
  type UnsubscribeDurable,
} from '../codec/types.js';
import type { NativeSession } from '../session.js';
import { NativeSubscription } from '../subscription.js';

function ackModeOf(mode: number): AckMode {
  switch (mode) {
    case ACK_MODE_AUTO:
      return 'auto';
    case ACK_MODE_CUMULATIVE:
      return 'cumulative';
    case ACK_MODE_INDIVIDUAL:
      return 'individual';
    default:
      throw new BlazeError('BAD_REQUEST', `unknown ack mode ${mode}`);
  }
}

export function handleSubscribe(session: NativeSession, f: Subscribe): void {
  if (session.subscriptions.has(f.subscription_id)) {
    throw new BlazeError('CONFLICT', `subscription id ${f.subscription_id} is already in use`);
  }
  const limits = session.settings.limits;
  if (session.subscriptions.size >= limits.maxSubscriptions) {
    throw new BlazeError('LIMIT_EXCEEDED', `at most ${limits.maxSubscriptions} subscriptions per connection`);
  }
  if (f.address === '') throw new BlazeError('INVALID_ADDRESS', 'Subscribe without an address');
  const ackMode = ackModeOf(f.ack_mode);
  const options: SubscribeOptions = { address: f.address, ackMode, prefetch: limits.maxUnacked };
  if (f.selector.trim() !== '') options.selector = f.selector;
  if (f.durable_name !== '') options.durableName = f.durable_name;
  if (f.no_local) options.noLocal = true;
  if (f.share_group !== '') options.shareGroup = f.share_group;
  const sub = new NativeSubscription(session, f.subscription_id, ackMode, f.credit);
  const conn = session.conn;
  session.openSubscription(sub, f.request_id, (sink) => conn.subscribe(options, sink));
}

export function handleUnsubscribe(session: NativeSession, f: Unsubscribe): void {
  session.closeSubscription(session.subscription(f.subscription_id));
  session.ok(f.request_id);
}

export function handleCredit(session: NativeSession, f: Credit): void {
  if (f.credit === 0) return;
  session.grantCredit(session.subscription(f.subscription_id), f.credit);
}

export function handleUnsubscribeDurable(session: NativeSession, f: UnsubscribeDurable): void {
  if (f.durable_name === '') throw new BlazeError('BAD_REQUEST', 'UnsubscribeDurable without a name');
  session.conn.unsubscribeDurable(f.durable_name);
  session.ok(f.request_id);
}
