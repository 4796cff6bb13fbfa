/**
 * SUBSCRIBE (1.2 "SUBSCRIBE") with ActiveMQ's extension headers:
 *   activemq.prefetchSize           max unacked deliveries (credit)
 *   activemq.subscriptionName       durable topic subscription name (also `durable-subscriber-name`);
 *                                   needs the CONNECT `client-id`
 *   activemq.noLocal                do not receive this connection's own messages
 *   selector                        JMS SQL-92 selector
 */
import type { AckMode, SubscribeOptions } from '../../../core/api.js';
import { BlazeError } from '../../../util/errors.js';
import type { StompFrame } from '../codec/frame.js';
import { badRequest } from '../errors.js';
import type { StompSession } from '../session.js';

const POSITIVE_INT = /^\s*[1-9][0-9]{0,8}\s*$/;

export function handleSubscribe(session: StompSession, frame: StompFrame): void {
  const h = frame.headers;
  const destination = session.requireHeader(frame, 'destination');
  let id = h['id'];
  if (id === undefined || id === '') {
    // 1.1+: "id ... MUST" ; 1.0 clients identify a subscription by its destination.
    if (session.version !== '1.0') throw badRequest("The SUBSCRIBE frame requires an 'id' header");
    id = destination;
  }
  if (session.subscriptions.get(id) !== undefined) {
    throw new BlazeError('CONFLICT', `Subscription id '${id}' is already in use on this connection`);
  }
  const max = session.settings.limits.maxSubscriptions;
  if (session.subscriptions.size >= max) {
    throw new BlazeError('LIMIT_EXCEEDED', `At most ${max} subscriptions per connection`);
  }
  const ackMode = parseAckMode(h['ack']);
  const address = session.destinations.toAddress(destination);
  const options: SubscribeOptions = {
    address,
    ackMode,
    prefetch: prefetchOf(session, h['activemq.prefetchSize'], ackMode),
  };
  const selector = h['selector'];
  if (selector !== undefined && selector.trim() !== '') options.selector = selector;
  const durableName = h['activemq.subscriptionName'] ?? h['durable-subscriber-name'];
  if (durableName !== undefined && durableName !== '' && isTopic(address)) {
    if (session.conn.clientId === undefined) {
      throw badRequest('A durable subscription needs a client-id header on CONNECT');
    }
    options.durableName = durableName;
  }
  if (h['activemq.noLocal']?.trim().toLowerCase() === 'true') options.noLocal = true;
  session.openSubscription(id, options, options.durableName);
  session.done(frame);
}

/** 1.2 "SUBSCRIBE ack Header": auto (default), client (cumulative), client-individual. */
function parseAckMode(value: string | undefined): AckMode {
  switch (value) {
    case undefined:
    case '':
    case 'auto':
      return 'auto';
    case 'client':
      return 'cumulative';
    case 'client-individual':
      return 'individual';
    default:
      throw badRequest(
        `Invalid ack mode '${value.slice(0, 32)}': expected auto, client or client-individual`,
      );
  }
}

function prefetchOf(session: StompSession, value: string | undefined, ackMode: AckMode): number {
  const limits = session.settings.limits;
  if (value === undefined) return ackMode === 'auto' ? limits.autoPrefetch : limits.defaultPrefetch;
  if (!POSITIVE_INT.test(value)) throw badRequest(`Invalid activemq.prefetchSize '${value.slice(0, 32)}'`);
  return Number(value);
}

function isTopic(address: string): boolean {
  return address.startsWith('topic://');
}
