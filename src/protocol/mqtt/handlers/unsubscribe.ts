/**
 * UNSUBSCRIBE (3.10): ends the core subscription of each filter (and, for a persistent session, its
 * durable subscription and what it holds); UNSUBACK with one reason code per filter in MQTT 5.
 */
import type { IUnsubscribePacket } from 'mqtt-packet';
import { MqttError, RC } from '../reason-codes.js';
import type { MqttSession } from '../session.js';

export function handleUnsubscribe(session: MqttSession, packet: IUnsubscribePacket): void {
  // [MQTT-3.10.3-2] at least one topic filter.
  if (packet.unsubscriptions.length === 0)
    throw new MqttError(RC.PROTOCOL_ERROR, 'UNSUBSCRIBE without filters');
  const codes: number[] = [];
  for (const filter of packet.unsubscriptions) {
    const sub = session.subscriptions.get(filter);
    if (sub === undefined) {
      codes.push(RC.NO_SUBSCRIPTION_EXISTED);
      continue;
    }
    session.closeSubscription(sub);
    if (sub.durableName !== undefined) {
      try {
        session.conn.unsubscribeDurable(sub.durableName);
      } catch {
        // Already gone.
      }
    }
    session.state.unsubscribe(filter);
    codes.push(RC.SUCCESS);
  }
  const unsuback =
    session.version === 5
      ? { cmd: 'unsuback' as const, messageId: packet.messageId!, granted: codes }
      : { cmd: 'unsuback' as const, messageId: packet.messageId!, granted: [] };
  session.writePacket(unsuback);
}
