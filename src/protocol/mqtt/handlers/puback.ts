/** PUBACK (3.4): the client has a QoS 1 message; the core delivery is acknowledged. */
import type { IPubackPacket } from 'mqtt-packet';
import type { MqttSession } from '../session.js';

export function handlePuback(session: MqttSession, packet: IPubackPacket): void {
  session.outbound.completeQos1(packet.messageId!);
}
