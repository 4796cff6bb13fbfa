/**
 * Deliveries to the client: the outgoing PUBLISH hot path and the in-flight window of QoS 1/2.
 *
 *  - QoS of a delivery: the minimum of the published and the granted QoS [MQTT-3.8.4-8].
 *  - QoS 0 with nothing of this session's own in the packet (3.1.x, or 5.0 without properties,
 *    Subscription Identifier or Topic Alias): the bytes are encoded once per message and shared by every
 *    such subscriber (message-out.ts `sharedQos0Publish`).
 *  - QoS 1/2: a packet id per delivery, kept until PUBACK / PUBCOMP; the client's Receive Maximum (4.9)
 *    bounds how many are in flight: at the limit the owner pauses its subscriptions (`windowChanged`).
 *    Deliveries not acknowledged on a previous connection keep their packet id and go out with DUP set
 *    [MQTT-4.4.0-1]. Every change is mirrored in the session state, which a persistent session stores.
 *  - Retained messages sent on SUBSCRIBE wait in a backlog while the window is full.
 */
import type { Message } from '../../core/message.js';
import type { Logger } from '../../util/logger.js';
import type { ProtocolVersion } from './codec/decoder.js';
import { encodeAck, encodePublish, type OutgoingPublish, publishSize } from './codec/encoder.js';
import { PROP_RETAIN, publishedQos } from './message-in.js';
import { publishProperties, sharedQos0Publish } from './message-out.js';
import { MqttError, RC } from './reason-codes.js';
import type { OutboundRecord, QoS, SessionState } from './state.js';
import type { MqttSubscription } from './subscriptions.js';
import { OutgoingAliases } from './topic-alias.js';
import { addressTopic } from './topics.js';

export interface OutboundOwner {
  readonly version: ProtocolVersion;
  readonly state: SessionState;
  readonly isConnected: boolean;
  /** Clock, read only for messages that can expire. */
  readonly now: number;
  write(bytes: Uint8Array): void;
  /**
   * Writes a QoS 2 PUBLISH once its outbound record (just set) is durable, and whatever follows behind it,
   * in order: a client that got the PUBLISH before a crash lost the record would get the message again
   * under a new packet id, a duplicate QoS 2 must never cause.
   */
  writeAfterRecord(bytes: Uint8Array): void;
  /** The window filled up or has room again. */
  windowChanged(): void;
}

/**
 * A delivery in flight. It is also the session state's record of the packet id (`SessionState.outbound`),
 * so a QoS 1/2 delivery costs one object, not two.
 */
class Inflight implements OutboundRecord {
  constructor(
    /**
     * null for a retained message sent on subscribe, or a PUBREL re-sent on resume: no core ack. Cleared
     * when the connection ends, so that a stored session does not hold the closed connection.
     */
    public sub: MqttSubscription | null,
    readonly tag: number,
    readonly qos: 1 | 2,
    readonly messageId: string,
    public released: boolean,
  ) {}
}

const MAX_PACKET_ID = 0xffff;

export class Outbound {
  /** QoS 1/2 deliveries the client may have unacknowledged (its Receive Maximum, 4.9). */
  sendWindow = 65_535;
  /** At the window's limit. */
  windowFull = false;
  private clientMaxPacket = Number.POSITIVE_INFINITY;
  private aliases: OutgoingAliases | null = null;
  private readonly inflight = new Map<number, Inflight>();
  /** Packet ids of deliveries not acknowledged on a previous connection, by message id [MQTT-4.4.0-1]. */
  private readonly resendIds = new Map<string, number>();
  /**
   * Packet ids go round all 65,535 instead of reusing a freed one at once: after a kill -9 the broker
   * may resend a PUBREL for an exchange whose PUBCOMP was not durable yet, and a client that already
   * holds the id again for a newer QoS 2 PUBLISH would take that PUBREL as the newer message's and
   * accept its resend (under a new id, its outbound record not being durable either) as another message:
   * a duplicate delivery (test/chaos/mqtt-crash.test.ts caught it with lowest-first reuse).
   */
  private nextPacketId = 1;
  /** Retained messages waiting for room in the send window. */
  private readonly retainedBacklog: Array<{ sub: MqttSubscription; message: Message }> = [];

  constructor(
    private readonly owner: OutboundOwner,
    private readonly log: Logger,
  ) {}

  /** What CONNECT told us about the client: Receive Maximum, Maximum Packet Size, Topic Alias Maximum. */
  configure(sendWindow: number, clientMaxPacket: number, aliasMaximum: number): void {
    this.sendWindow = sendWindow;
    this.clientMaxPacket = clientMaxPacket;
    this.aliases = aliasMaximum > 0 ? new OutgoingAliases(aliasMaximum) : null;
  }

  /** A persistent session resumes: PUBRELs re-sent, ids kept for the core's re-deliveries [MQTT-4.4.0-1]. */
  resume(state: SessionState): void {
    for (const [id, r] of state.outbound) {
      if (r.released) {
        this.inflight.set(id, new Inflight(null, 0, 2, r.messageId, true));
        this.owner.write(encodeAck('pubrel', id, 0, this.owner.version));
      } else {
        // The core re-delivers the message (it was returned unacknowledged): same id, DUP set.
        this.resendIds.set(r.messageId, id);
      }
    }
    this.checkWindow();
  }

  /** A retained message for a new subscription, with RETAIN set (3.3.1.3); queued while the window is full. */
  sendRetained(sub: MqttSubscription, message: Message): void {
    if (this.windowFull || this.retainedBacklog.length > 0) this.retainedBacklog.push({ sub, message });
    else this.publish(sub, message, 0, false, true);
  }

  /**
   * Sends `message` on `sub`; `tag` > 0 is the core delivery to acknowledge once the client has it
   * (at once for QoS 0; on PUBACK; on PUBREC for QoS 2, when the client owns the message).
   */
  publish(
    sub: MqttSubscription,
    message: Message,
    tag: number,
    redelivered: boolean,
    retained: boolean,
  ): void {
    const core = sub.core;
    const version = this.owner.version;
    // The clock is read only for a message that can expire (per delivery, it showed in profiles).
    let now = 0;
    if (message.expiration !== 0) {
      now = this.owner.now;
      if (message.expiration <= now) {
        if (tag > 0 && sub.explicit) core?.ack(tag);
        return;
      }
    }
    const qos = Math.min(publishedQos(message), sub.record.qos) as QoS;
    const retain = retained || (sub.record.retainAsPublished && message.properties[PROP_RETAIN] === true);
    const properties = version === 5 ? publishProperties(message, now, sub.subscriptionIds) : undefined;
    if (qos === 0 && properties === undefined && this.aliases === null) {
      // Nothing in the packet is this session's own: the bytes are shared by all such subscribers.
      const bytes = sharedQos0Publish(message, retain, version);
      if (bytes.length > this.clientMaxPacket) {
        this.dropOversized(sub, tag, message);
        return;
      }
      if (tag > 0 && sub.explicit) core?.ack(tag);
      this.owner.write(bytes);
      return;
    }
    const topic = addressTopic(message.address) ?? message.address;
    const out: OutgoingPublish = { topic, qos, packetId: 0, dup: false, retain, payload: message.body };
    if (properties !== undefined) out.properties = properties;
    if (
      this.clientMaxPacket !== Number.POSITIVE_INFINITY &&
      publishSize(out, version) > this.clientMaxPacket
    ) {
      this.dropOversized(sub, tag, message);
      return;
    }
    this.aliases?.apply(out);
    if (qos > 0) {
      let id: number | undefined;
      if (redelivered && this.resendIds.size > 0) {
        id = this.resendIds.get(message.id);
        if (id !== undefined) this.resendIds.delete(message.id);
      }
      out.dup = id !== undefined || redelivered;
      id ??= this.allocatePacketId();
      out.packetId = id;
      const f = new Inflight(tag > 0 ? sub : null, tag, qos as 1 | 2, message.id, false);
      this.inflight.set(id, f);
      this.owner.state.setOutbound(id, f);
      this.checkWindow();
    } else if (tag > 0 && sub.explicit) {
      core?.ack(tag);
    }
    if (qos === 2) this.owner.writeAfterRecord(encodePublish(out, version));
    else this.owner.write(encodePublish(out, version));
  }

  /** PUBACK from the client. */
  completeQos1(packetId: number): void {
    const f = this.inflight.get(packetId);
    if (f === undefined || f.qos !== 1) return; // unknown id: nothing to do (a late duplicate)
    this.forget(packetId);
    ackCore(f);
    this.checkWindow();
  }

  /** PUBREC from the client: it owns the message now; returns false when the id is unknown. */
  releaseQos2(packetId: number, refused: boolean): boolean {
    const f = this.inflight.get(packetId);
    if (f === undefined || f.qos !== 2) return false;
    if (!f.released) ackCore(f);
    if (refused) {
      // MQTT 5 4.3.3: a PUBREC with a failure code ends the exchange; no PUBREL.
      this.forget(packetId);
      this.checkWindow();
      return true;
    }
    if (!f.released) {
      f.released = true;
      this.owner.state.setOutbound(packetId, f);
    }
    return true;
  }

  /** PUBCOMP from the client. */
  completeQos2(packetId: number): void {
    const f = this.inflight.get(packetId);
    if (f === undefined || f.qos !== 2 || !f.released) return;
    this.forget(packetId);
    this.checkWindow();
  }

  /** The connection is gone. */
  clear(): void {
    this.retainedBacklog.length = 0;
    for (const f of this.inflight.values()) f.sub = null;
  }

  /** The exchange of `packetId` is complete: the id is free again. */
  private forget(packetId: number): void {
    this.inflight.delete(packetId);
    this.owner.state.removeOutbound(packetId);
  }

  /** [MQTT-3.1.2-25] a PUBLISH over the client's Maximum Packet Size is dropped as if delivered. */
  private dropOversized(sub: MqttSubscription, tag: number, message: Message): void {
    if (tag > 0 && sub.explicit) sub.core?.ack(tag);
    this.log.debug(
      { address: message.address, size: message.body.length },
      'message over the client maximum packet size: dropped',
    );
  }

  private allocatePacketId(): number {
    const stored = this.owner.state.outbound;
    for (let tries = 0; tries < MAX_PACKET_ID; tries++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === MAX_PACKET_ID ? 1 : id + 1;
      if (!this.inflight.has(id) && !stored.has(id)) return id;
    }
    // Unreachable while the window (at most 65,535) bounds what is in flight.
    throw new MqttError(RC.RECEIVE_MAXIMUM_EXCEEDED, 'no free packet identifier');
  }

  /** Receive Maximum (4.9): tells the owner when the window fills or opens. */
  private checkWindow(): void {
    const full = this.inflight.size >= this.sendWindow;
    if (full === this.windowFull) return;
    this.windowFull = full;
    if (!full) this.drainRetained();
    this.owner.windowChanged();
  }

  private drainRetained(): void {
    while (this.retainedBacklog.length > 0 && !this.windowFull && this.owner.isConnected) {
      const { sub, message } = this.retainedBacklog.shift()!;
      this.publish(sub, message, 0, false, true);
    }
  }
}

function ackCore(f: Inflight): void {
  if (f.sub === null || f.tag === 0) return;
  try {
    f.sub.core?.ack(f.tag);
  } catch {
    // The subscription was closed meanwhile (UNSUBSCRIBE, takeover): the core took the message back.
  }
}
