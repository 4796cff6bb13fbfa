/**
 * PUBREL (3.6), incoming QoS 2 step 3: the packet id is released, so a later PUBLISH with it is a new
 * message [MQTT-4.3.3-9]; PUBCOMP answers [MQTT-4.3.3-11]. MQTT 5 answers an unknown id with 0x92.
 */
import type { IPubrelPacket } from 'mqtt-packet';
import { ackWhenDurable } from '../persistence/durable-ack.js';
import { RC } from '../reason-codes.js';
import type { MqttSession } from '../session.js';

export function handlePubrel(session: MqttSession, packet: IPubrelPacket): void {
  const id = packet.messageId!;
  const known = session.state.removeInbound(id);
  // Once the release is durable: a stored id would swallow the client's next message reusing it.
  if (known) ackWhenDurable(session, 'pubcomp', id, RC.SUCCESS);
  else session.writeAckNow('pubcomp', id, RC.PACKET_ID_NOT_FOUND);
}
