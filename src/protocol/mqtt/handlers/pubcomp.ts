/** PUBCOMP (3.7), outgoing QoS 2 step 4: the packet id is free again. */
import type { IPubcompPacket } from 'mqtt-packet';
import type { MqttSession } from '../session.js';

export function handlePubcomp(session: MqttSession, packet: IPubcompPacket): void {
  session.outbound.completeQos2(packet.messageId!);
}
