/**
 * PUBLISH from a client (3.3): topic alias resolution, topic checks, then one core send. QoS 1 is
 * answered with PUBACK and QoS 2 with PUBREC once the core has the message (for persistent messages,
 * once the store has it), in arrival order. QoS 2 uses method B of 4.3.3: the message is routed on
 * PUBLISH and its packet id remembered until PUBREL, so a re-sent PUBLISH is not routed twice.
 */
import type { IPublishPacket } from 'mqtt-packet';
import { ACCEPTED } from '../../../core/index.js';
import type { MessageInit } from '../../../core/message.js';
import { retainedMessage, toMessageInit } from '../message-in.js';
import { MqttError, RC } from '../reason-codes.js';
import { isStoreFailure, type MqttSession } from '../session.js';
import { checkTopicName, topicToName } from '../topics.js';

let retainedSeq = 0;
/** The last topic name that passed `checkTopicName` (the check depends on the name only). */
let lastValidTopic = '';

export function handlePublish(session: MqttSession, packet: IPublishPacket): void {
  const limits = session.settings.limits;
  const qos = packet.qos;
  let topic = packet.topic;
  const props = packet.properties;
  if (session.version === 5 && props !== undefined) {
    const alias = props.topicAlias;
    if (alias !== undefined) topic = session.aliasesIn.resolve(alias, topic, limits.topicAliasMaximum);
    // [MQTT-3.3.4-6] a client never sends a Subscription Identifier.
    if (props.subscriptionIdentifier !== undefined)
      throw new MqttError(RC.PROTOCOL_ERROR, 'Subscription Identifier in a PUBLISH from a client');
  }
  if (topic !== lastValidTopic) {
    checkTopicName(topic);
    lastValidTopic = topic;
  }
  if (qos > limits.maximumQoS) throw new MqttError(RC.QOS_NOT_SUPPORTED, `QoS ${qos} not supported`);
  const state = session.state;
  const packetId = packet.messageId ?? 0;

  if (qos === 2 && state.inboundQos2.has(packetId)) {
    // A re-sent PUBLISH of a message already routed: acknowledge again, route nothing [MQTT-4.3.3-10].
    session.ackPublish('pubrec', packetId, ACCEPTED);
    return;
  }
  if (
    session.version === 5 &&
    qos > 0 &&
    session.pendingPubacks + state.inboundQos2.size >= limits.receiveMaximum
  ) {
    throw new MqttError(RC.RECEIVE_MAXIMUM_EXCEEDED, 'more unacknowledged QoS 1/2 PUBLISHes than allowed');
  }

  const init = toMessageInit(
    { topic, qos, retain: packet.retain, payload: packet.payload, properties: props },
    // The clock matters only for a Message Expiry Interval.
    props?.messageExpiryInterval === undefined ? 0 : session.now,
  );
  let result = session.conn.send(init);
  if (packet.retain) result = retain(session, topic, init, result);

  if (qos === 0) {
    if (result !== ACCEPTED) session.paceQos0(result);
    return;
  }
  if (qos === 1) {
    session.ackPublish('puback', packetId, result);
    return;
  }
  state.addInbound(packetId);
  const store = session.settings.registry.store;
  // A durable session store must have the packet id before PUBREC, or a crash could route it twice.
  if (store.durable && state.persistent) result = result.then(() => store.flushed());
  session.ackPublish('pubrec', packetId, result, (e) => {
    // MQTT 5 refuses with a reason code and forgets the id; 3.1.1 acknowledges positively and keeps it,
    // unless the store failed: then the message is not known to be routed, and the re-sent PUBLISH must be.
    if (session.version === 5 || isStoreFailure(e)) state.removeInbound(packetId);
  });
}

/** Keeps (or, with an empty payload, clears [MQTT-3.3.1-10]) the retained message once the core accepted it. */
function retain(
  session: MqttSession,
  topic: string,
  init: MessageInit,
  result: Promise<void>,
): Promise<void> {
  const store = session.settings.retained;
  if (store === undefined) return result;
  const apply = () => {
    const name = topicToName(topic);
    const ok = store.set(
      name,
      retainedMessage(init, `retained-${++retainedSeq}`, session.conn.id, session.now),
    );
    if (!ok) session.publishRefused(new MqttError(RC.QUOTA_EXCEEDED, 'retained message store full'));
  };
  // The publisher's PUBACK / PUBREC also waits until the retained message itself is durable.
  if (result === ACCEPTED) {
    apply();
    return store.flushed();
  }
  return result.then(() => {
    if (session.isClosed) return;
    apply();
    return store.flushed();
  });
}
