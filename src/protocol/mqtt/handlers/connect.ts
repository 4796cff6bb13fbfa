/**
 * CONNECT (3.1): protocol level, client identifier, Will, then authentication (asynchronous; the
 * session answers CONNACK once it is done). A second CONNECT is a protocol error [MQTT-3.1.0-2].
 */
import { randomUUID } from 'node:crypto';
import type { IConnectPacket } from 'mqtt-packet';
import type { Principal } from '../../../core/api.js';
import type { ProtocolVersion } from '../codec/decoder.js';
import { toMessageInit } from '../message-in.js';
import { MqttError, RC } from '../reason-codes.js';
import type { ConnectParams, MqttSession } from '../session.js';
import { checkTopicName } from '../topics.js';

export function handleConnect(session: MqttSession, packet: IConnectPacket): void {
  if (session.isConnected) throw new MqttError(RC.PROTOCOL_ERROR, 'second CONNECT [MQTT-3.1.0-2]');
  const version = (packet.protocolVersion ?? 4) as ProtocolVersion;
  session.version = version;
  const limits = session.settings.limits;

  let clientId = packet.clientId ?? '';
  let assigned = false;
  if (clientId === '') {
    // 3.1 requires an id; 3.1.1 allows none only with a clean session [MQTT-3.1.3-8]; 5.0 assigns one
    // and says which [MQTT-3.1.3-6/7].
    if (version === 3 || (version === 4 && !packet.clean)) {
      session.refuse(RC.CLIENT_ID_NOT_VALID, 'empty client identifier');
      return;
    }
    clientId = `blazemq-${randomUUID()}`;
    assigned = version === 5;
  }
  if (clientId.length > limits.maxClientIdLength) {
    session.refuse(RC.CLIENT_ID_NOT_VALID, 'client identifier too long');
    return;
  }
  // Enhanced authentication (4.12) is not offered.
  if (packet.properties?.authenticationMethod !== undefined) {
    session.refuse(RC.BAD_AUTHENTICATION_METHOD, 'enhanced authentication is not supported');
    return;
  }
  if (packet.properties?.receiveMaximum === 0) {
    // 3.1.2.11.3: a Receive Maximum of 0 is a protocol error.
    throw new MqttError(RC.PROTOCOL_ERROR, 'Receive Maximum 0');
  }

  let will: ConnectParams['will'];
  let willDelay = 0;
  if (packet.will !== undefined) {
    const w = packet.will;
    try {
      checkTopicName(w.topic);
    } catch (e) {
      session.refuse(RC.TOPIC_NAME_INVALID, (e as Error).message);
      return;
    }
    if ((w.qos ?? 0) > limits.maximumQoS) {
      session.refuse(RC.QOS_NOT_SUPPORTED, 'Will QoS not supported');
      return;
    }
    // The expiry runs from when the Will is published (3.1.3.2.4), so it is applied then.
    const { messageExpiryInterval, ...properties } = w.properties ?? {};
    const init = toMessageInit(
      { topic: w.topic, qos: w.qos ?? 0, retain: w.retain === true, payload: w.payload, properties },
      session.now,
    );
    will = { topic: w.topic, init, retain: w.retain === true, expirySeconds: messageExpiryInterval };
    willDelay = w.properties?.willDelayInterval ?? 0;
  }

  let auth: Promise<Principal | null>;
  try {
    auth = session.settings.authenticator.authenticate(packet.username, packet.password?.toString('utf8'));
  } catch (e) {
    auth = Promise.reject(e);
  }
  session.beginConnecting({ packet, version, clientId, assigned, will, willDelay }, auth);
}
