/**
 * UNSUBSCRIBE (1.2 "UNSUBSCRIBE"). With `activemq.subscriptionName` (or `durable-subscriber-name`) the
 * durable subscription itself is removed, as ActiveMQ does; otherwise a durable one only goes offline.
 */
import { BlazeError } from '../../../util/errors.js';
import type { StompFrame } from '../codec/frame.js';
import { missingHeader } from '../errors.js';
import type { StompSession } from '../session.js';

export function handleUnsubscribe(session: StompSession, frame: StompFrame): void {
  const h = frame.headers;
  // 1.0 clients may name the subscription by destination (its default id).
  const id = h['id'] || (session.version === '1.0' ? h['destination'] : undefined);
  const durableName = h['activemq.subscriptionName'] || h['durable-subscriber-name'] || undefined;
  if (!id && durableName === undefined) throw missingHeader('UNSUBSCRIBE', 'id');
  const sub = id ? session.subscriptions.get(id) : undefined;
  if (sub === undefined && durableName === undefined) {
    throw new BlazeError('NOT_FOUND', `No subscription with id '${id}'`);
  }
  if (sub !== undefined) session.closeSubscription(sub);
  if (durableName !== undefined) session.conn.unsubscribeDurable(durableName);
  session.done(frame);
}
