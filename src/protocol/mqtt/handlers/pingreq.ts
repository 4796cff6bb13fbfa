/** PINGREQ (3.12): [MQTT-3.12.4-1] the server MUST answer with PINGRESP. */
import type { IPingreqPacket } from 'mqtt-packet';
import { PINGRESP } from '../codec/encoder.js';
import type { MqttSession } from '../session.js';

export function handlePingreq(session: MqttSession, _packet: IPingreqPacket): void {
  session.writeAck(PINGRESP);
}
