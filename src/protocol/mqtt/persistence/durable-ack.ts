/**
 * Acks that promise a state change: with a durable session store they are written only once the change
 * is on disk, in order with the session's other acks (AckQueue). Otherwise a crash right after the ack
 * could undo what it told the client:
 *  - PUBREL (outgoing QoS 2, after PUBREC): the core delivery is acked and the packet id marked released.
 *    Lost, the message would be re-sent after a restart with an id the client has already released
 *    ([MQTT-4.3.2-3]: it is then a new message): delivered twice.
 *  - PUBCOMP (incoming QoS 2, after PUBREL): the packet id is forgotten. Lost, the id would come back
 *    as "already routed", and the client's next message that reuses the id would be dropped.
 * A session that is not persistent has nothing stored, and its ack is written at once.
 */
import { type AckType, encodeAck } from '../codec/encoder.js';
import { MqttError, RC } from '../reason-codes.js';
import type { MqttSession } from '../session.js';

export function ackWhenDurable(session: MqttSession, type: AckType, packetId: number, reason: number): void {
  const store = session.settings.registry.store;
  if (!store.durable || !session.state.persistent) {
    session.writeAckNow(type, packetId, reason);
    return;
  }
  session.acks.add(
    store.flushed(),
    () => encodeAck(type, packetId, reason, session.version),
    () => {
      // The store failed (fail-stop): the ack cannot be honoured. Closing lets the client retry the
      // exchange on its next connection, which is what the protocol expects after a failure.
      queueMicrotask(() => session.fail(new MqttError(RC.UNSPECIFIED, `session state not stored (${type})`)));
      return null;
    },
  );
}
