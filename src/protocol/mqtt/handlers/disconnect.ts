/**
 * DISCONNECT (3.14). The Will is discarded [MQTT-3.14.4-3], except for MQTT 5 reason 0x04 "Disconnect
 * with Will Message". MQTT 5 may change the Session Expiry Interval, but not from 0 to non-zero
 * [MQTT-3.14.2-2] (protocol error).
 */
import type { IDisconnectPacket } from 'mqtt-packet';
import { MqttError, RC } from '../reason-codes.js';
import type { MqttSession } from '../session.js';

export function handleDisconnect(session: MqttSession, packet: IDisconnectPacket): void {
  const expiry = packet.properties?.sessionExpiryInterval;
  if (session.version === 5 && expiry !== undefined) {
    const state = session.state;
    if (state.expiryInterval === 0 && expiry > 0) {
      throw new MqttError(RC.PROTOCOL_ERROR, 'session expiry cannot be set once the session has none');
    }
    state.setExpiry(Math.min(expiry, session.settings.limits.maxSessionExpiry));
  }
  session.disconnect(session.version === 5 && packet.reasonCode === RC.DISCONNECT_WITH_WILL);
}
