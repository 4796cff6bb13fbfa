/**
 * SUBSCRIBE (3.8): one core subscription per filter, SUBACK with one code per filter, in order
 * [MQTT-3.8.4-6]; then the retained messages (3.3.1.3), after the SUBACK. In a persistent session on a
 * durable store the SUBACK waits until the subscription is stored: a client that saw its SUBACK and
 * then gets Session Present after a crash must find the subscription there (it would not re-subscribe).
 */
import type { ISubscribePacket, ISubscription } from 'mqtt-packet';
import { encodePacket } from '../codec/encoder.js';
import { MqttError, RC, reasonOf, V3_SUBACK_FAILURE } from '../reason-codes.js';
import type { MqttSession } from '../session.js';
import type { QoS, SubscriptionRecord } from '../state.js';
import { parseFilter } from '../topics.js';

export function handleSubscribe(session: MqttSession, packet: ISubscribePacket): void {
  const subscriptionId = session.version === 5 ? packet.properties?.subscriptionIdentifier : undefined;
  // 3.8.2.1.2: a Subscription Identifier of 0 is a protocol error.
  if (subscriptionId === 0) throw new MqttError(RC.PROTOCOL_ERROR, 'Subscription Identifier 0');
  if (packet.subscriptions.length === 0) throw new MqttError(RC.PROTOCOL_ERROR, 'SUBSCRIBE without filters');
  const granted: number[] = [];
  const retainedFor: Array<() => void> = [];
  session.holdOutput();
  try {
    for (const s of packet.subscriptions) granted.push(subscribeOne(session, s, subscriptionId, retainedFor));
  } catch (e) {
    // A protocol error ends the connection: no SUBACK (what the core delivered meanwhile is dropped).
    session.dropHeldOutput();
    throw e;
  }
  const suback = encodePacket({ cmd: 'suback', messageId: packet.messageId!, granted }, session.version);
  const finish = () => {
    session.releaseOutput(suback);
    for (const send of retainedFor) send();
  };
  const store = session.settings.registry.store;
  if (!store.durable || !session.state.persistent) {
    finish();
    return;
  }
  // Output stays held (deliveries of the new subscriptions queue behind the SUBACK) until then.
  session.acks.add(
    store.flushed(),
    () => {
      finish();
      return null;
    },
    (e) => {
      queueMicrotask(() => session.fail(e));
      return null;
    },
  );
}

function subscribeOne(
  session: MqttSession,
  s: ISubscription,
  subscriptionId: number | undefined,
  retainedFor: Array<() => void>,
): number {
  const v5 = session.version === 5;
  const parsed = parseFilter(s.topic);
  if (parsed === undefined) return v5 ? RC.TOPIC_FILTER_INVALID : V3_SUBACK_FAILURE;
  // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error.
  if (parsed.shareGroup !== undefined && s.nl === true)
    throw new MqttError(RC.PROTOCOL_ERROR, 'No Local on a shared subscription');
  const limits = session.settings.limits;
  const existing = session.subscriptions.get(s.topic);
  if (existing === undefined && session.subscriptions.size >= limits.maxSubscriptions)
    return v5 ? RC.QUOTA_EXCEEDED : V3_SUBACK_FAILURE;
  const qos = Math.min(s.qos, limits.maximumQoS) as QoS;
  const record: SubscriptionRecord = {
    filter: s.topic,
    qos,
    noLocal: s.nl === true,
    retainAsPublished: s.rap === true,
    retainHandling: (s.rh ?? 0) as 0 | 1 | 2,
    ...(subscriptionId === undefined ? {} : { subscriptionId }),
  };
  let sub: ReturnType<MqttSession['openSubscription']>;
  try {
    sub = session.openSubscription(record, parsed);
  } catch (e) {
    if (v5) return reasonOf(e, RC.TOPIC_FILTER_INVALID);
    return V3_SUBACK_FAILURE;
  }
  session.state.subscribe(record);
  // Retain Handling (3.8.3.1): 0 always, 1 only for a new subscription, 2 never; never for shared ones.
  const rh = record.retainHandling;
  if (parsed.shareGroup === undefined && (rh === 0 || (rh === 1 && existing === undefined))) {
    retainedFor.push(() => session.sendRetained(sub));
  }
  return qos;
}
