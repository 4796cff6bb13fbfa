/**
 * PUBREC (3.5), outgoing QoS 2 step 2: the client owns the message, so the core delivery is acknowledged
 * now, and PUBREL follows [MQTT-4.3.3-4]. An unknown id is answered with PUBREL 0x92 in MQTT 5
 * (4.3.3); a failure reason code (>= 0x80) ends the exchange without PUBREL.
 */
import type { IPubrecPacket } from 'mqtt-packet';
import { ackWhenDurable } from '../persistence/durable-ack.js';
import { RC } from '../reason-codes.js';
import type { MqttSession } from '../session.js';

export function handlePubrec(session: MqttSession, packet: IPubrecPacket): void {
  const id = packet.messageId!;
  const refused = (packet.reasonCode ?? 0) >= 0x80;
  const known = session.outbound.releaseQos2(id, refused);
  if (refused) return;
  // Once the ack of the core delivery is durable, or a restart could re-send the PUBLISH after it.
  if (known) ackWhenDurable(session, 'pubrel', id, RC.SUCCESS);
  else session.writeAckNow('pubrel', id, RC.PACKET_ID_NOT_FOUND);
}
