/**
 * One MQTT 3.1 / 3.1.1 / 5.0 connection: packets in from the transport, one core call per packet,
 * packets out. Handlers (handlers/, one file per packet type) hold the per-packet rules; this class
 * holds the connection's state and the two hot paths (incoming PUBLISH acks, outgoing PUBLISH).
 *
 * Phases: awaiting-connect -> connecting (authenticating; reading paused) -> connected -> closed.
 * Every violation goes through `fail`: DISCONNECT with its reason code for MQTT 5 (4.13), a plain close
 * for 3.1.x, which has no way to say why; the Will is then published, as for any close without a
 * DISCONNECT 0x00 (3.1.2.5).
 *
 * Flow control, both edges:
 *  - output: `transport.write` returning false pauses every core subscription until the transport
 *    drains (a peer that never drains is dropped after `slowConsumerTimeoutMs`); QoS 1/2 deliveries in
 *    flight are bounded by the client's Receive Maximum (4.9): at the limit the subscriptions pause;
 *  - input: while `receiveMaximum` PUBLISH acks await the core (persistent sends not yet durable) no
 *    further packet is read, so a producer faster than the store is slowed by TCP.
 */
import type { IConnectPacket, Packet } from 'mqtt-packet';
import type { CoreConnection, Delivery, Principal, SubscribeOptions } from '../../core/api.js';
import type { Message } from '../../core/message.js';
import type { ProtocolSession, Transport } from '../../net/transport.js';
import { isBlazeError } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { AckQueue, type AckSink } from './ack-queue.js';
import { MqttDecoder, type ProtocolVersion } from './codec/decoder.js';
import {
  type AckType,
  encodeAck,
  encodePacket,
  encodePublish,
  type OutgoingPublish,
  publishSize,
} from './codec/encoder.js';
import type { ResolvedMqttContext } from './context.js';
import { handlerFor } from './handlers/index.js';
import { PROP_RETAIN, publishedQos } from './message-in.js';
import { publishProperties, sharedQos0Publish } from './message-out.js';
import { MqttError, RC, reasonOf, v3ConnackCode } from './reason-codes.js';
import type { LiveSession, WillMessage } from './registry.js';
import { NEVER_EXPIRES, type QoS, SessionState, type SubscriptionRecord } from './state.js';
import { type DeliveryTarget, MqttSubscription } from './subscriptions.js';
import { addressTopic, filterToPattern, type ParsedFilter } from './topics.js';

type Phase = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

/** What the CONNECT handler settled before authentication. */
export interface ConnectParams {
  readonly packet: IConnectPacket;
  readonly version: ProtocolVersion;
  readonly clientId: string;
  /** The client sent an empty id and we made one up (MQTT 5: returned as Assigned Client Identifier). */
  readonly assigned: boolean;
  readonly will: Omit<WillMessage, 'principal'> | undefined;
  readonly willDelay: number;
}

interface Inflight {
  /** null for a retained message sent on subscribe, or a PUBREL re-sent on resume: no core ack. */
  readonly sub: MqttSubscription | null;
  readonly tag: number;
  readonly qos: 1 | 2;
  readonly messageId: string;
  released: boolean;
}

const MAX_PACKET_ID = 0xffff;

export class MqttSession implements ProtocolSession, DeliveryTarget, AckSink, LiveSession {
  readonly settings: ResolvedMqttContext;
  readonly decoder: MqttDecoder;
  version: ProtocolVersion = 4;
  clientId = '';
  /** Subscriptions by filter text (as subscribed, `$share/...` included). */
  readonly subscriptions = new Map<string, MqttSubscription>();
  /** Topic aliases the client defined (MQTT 5 3.3.2.3.4). */
  readonly aliasesIn = new Map<number, string>();
  readonly acks: AckQueue;
  /** QoS 1 PUBACKs not yet written (Receive Maximum accounting). */
  pendingPubacks = 0;

  private readonly transport: Transport;
  private readonly log: Logger;
  private phase: Phase = 'awaiting-connect';
  private connection: CoreConnection | null = null;
  private sessionState: SessionState | null = null;
  private will: WillMessage | undefined;
  private willDelay = 0;
  /** Set once no further packet may be processed (a violation, or DISCONNECT). */
  private halted = false;
  private pumping = false;
  private inboundBlocked = false;
  /** QoS 0 PUBLISHes the core has not accepted yet (see paceQos0). */
  private qos0Pending = 0;
  private readingPaused = false;

  // Output.
  private readonly inflight = new Map<number, Inflight>();
  /** Packet ids of deliveries not acknowledged on a previous connection, by message id [MQTT-4.4.0-1]. */
  private readonly resendIds = new Map<string, number>();
  private nextPacketId = 1;
  private sendWindow = 65_535;
  private clientMaxPacket = Number.POSITIVE_INFINITY;
  private aliasOutMax = 0;
  private readonly aliasesOut = new Map<string, number>();
  /** Retained messages waiting for room in the send window. */
  private readonly retainedBacklog: Array<{ sub: MqttSubscription; message: Message }> = [];
  private writeBlocked = false;
  private windowFull = false;
  private subsPaused = false;
  private slowTimer: unknown = null;
  /** Output held while a SUBSCRIBE is handled, so that SUBACK precedes the messages it lets through. */
  private held: Uint8Array[] | null = null;

  // Keep-alive (3.1.2.10): the client is dropped after 1.5 x its interval without a packet.
  private keepAliveMs = 0;
  private lastRead = 0;
  private keepAliveTimer: unknown = null;

  constructor(transport: Transport, settings: ResolvedMqttContext) {
    this.transport = transport;
    this.settings = settings;
    this.log = settings.logger.child({ protocol: 'mqtt', remote: transport.remoteAddress });
    this.decoder = new MqttDecoder(settings.limits.maxPacketSize);
    this.acks = new AckQueue(this);
  }

  get conn(): CoreConnection {
    if (this.connection === null) throw new MqttError(RC.PROTOCOL_ERROR, 'not connected');
    return this.connection;
  }

  get state(): SessionState {
    if (this.sessionState === null) throw new MqttError(RC.PROTOCOL_ERROR, 'not connected');
    return this.sessionState;
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  get isConnected(): boolean {
    return this.phase === 'connected';
  }

  get now(): number {
    return this.settings.timers.now();
  }

  // ---- transport -> session ------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    if (this.keepAliveMs > 0) this.lastRead = this.settings.timers.now();
    this.decoder.push(chunk);
    try {
      this.pump();
    } catch (e) {
      // Only a bug gets here (handlers' errors are caught per packet): drop this connection only.
      this.log.error({ err: e }, 'MQTT session failed');
      this.teardown(true);
      this.transport.destroy();
    }
  }

  onClose(error?: Error): void {
    if (this.phase === 'closed') return;
    if (error) this.log.debug({ err: error.message }, 'transport closed with an error');
    // Closed without DISCONNECT: the Will goes out (3.1.2.5).
    this.teardown(true);
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (
        !this.halted &&
        !this.inboundBlocked &&
        (this.phase === 'awaiting-connect' || this.phase === 'connected')
      ) {
        let packet: Packet | null;
        try {
          packet = this.decoder.next();
        } catch (e) {
          this.fail(e);
          break;
        }
        if (packet === null) break;
        this.dispatch(packet);
      }
    } finally {
      this.pumping = false;
    }
    this.updateReading();
  }

  private dispatch(packet: Packet): void {
    try {
      if (this.phase === 'awaiting-connect' && packet.cmd !== 'connect') {
        // [MQTT-3.1.0-1] the first packet MUST be CONNECT; close without a reply.
        throw new MqttError(RC.PROTOCOL_ERROR, `expected CONNECT first, got ${packet.cmd}`);
      }
      checkPacketId(packet);
      handlerFor(packet.cmd)(this, packet);
    } catch (e) {
      this.fail(e);
    }
  }

  private updateReading(): void {
    if (this.phase === 'closed') return;
    const pause = this.phase === 'connecting' || this.halted || this.inboundBlocked;
    if (pause === this.readingPaused) return;
    this.readingPaused = pause;
    if (pause) this.transport.pauseReading();
    else this.transport.resumeReading();
  }

  // ---- CONNECT --------------------------------------------------------------------------------------

  /** The CONNECT is valid; authentication is under way. */
  beginConnecting(params: ConnectParams, auth: Promise<Principal | null>): void {
    this.phase = 'connecting';
    this.version = params.version;
    this.decoder.version = params.version;
    auth.then(
      (principal) => this.finishConnect(params, principal),
      (e: unknown) => {
        if (this.phase !== 'connecting') return;
        this.log.error({ err: e }, 'authentication failed');
        this.refuse(RC.SERVER_UNAVAILABLE, 'authentication failed');
      },
    );
  }

  /** CONNACK with a refusal (3.2.2.3 / 5 3.2.2.2), then close; the session never existed. */
  refuse(reason: number, why: string): void {
    if (this.phase === 'closed') return;
    this.log.debug({ reason, why }, 'CONNECT refused');
    const packet =
      this.version === 5
        ? encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: reason }, 5)
        : Buffer.from([0x20, 0x02, 0x00, v3ConnackCode(reason)]);
    this.transport.write(packet);
    this.halted = true;
    this.teardown(false);
    this.transport.end();
  }

  private finishConnect(params: ConnectParams, principal: Principal | null): void {
    if (this.phase !== 'connecting') return;
    const { packet, version, clientId } = params;
    const limits = this.settings.limits;
    if (principal === null) {
      this.refuse(
        packet.username === undefined ? RC.NOT_AUTHORIZED : RC.BAD_USER_NAME_OR_PASSWORD,
        'authentication refused',
      );
      return;
    }
    const registry = this.settings.registry;
    let state = registry.claim(clientId, this);
    let conn: CoreConnection;
    try {
      conn = this.settings.core.connect({
        principal,
        clientId,
        protocol: 'mqtt',
        remoteAddress: this.transport.remoteAddress,
      });
    } catch (e) {
      registry.release(clientId, this, state);
      const conflict = isBlazeError(e) && e.code === 'CONFLICT';
      this.refuse(conflict ? RC.CLIENT_ID_NOT_VALID : RC.SERVER_UNAVAILABLE, String(e));
      return;
    }
    this.clientId = clientId;
    this.connection = conn;
    // Clean Start / Clean Session: an existing session is discarded [MQTT-3.1.2-4], [MQTT-3.1.2-6].
    if (state !== undefined && packet.clean) {
      registry.discard(state, conn);
      state = undefined;
    }
    const sessionPresent = state !== undefined;
    const requested =
      version === 5 ? (packet.properties?.sessionExpiryInterval ?? 0) : packet.clean ? 0 : NEVER_EXPIRES;
    const expiry = Math.min(requested, limits.maxSessionExpiry);
    if (state === undefined) state = new SessionState(clientId, expiry, registry.store);
    else state.setExpiry(expiry);
    this.sessionState = state;
    if (params.will !== undefined) {
      this.will = { ...params.will, principal };
      this.willDelay = params.willDelay;
    }
    // Keep Alive; MQTT 5 lets the server impose its own (Server Keep Alive, 3.2.2.3.14).
    let keepAlive = packet.keepalive ?? 0;
    let serverKeepAlive: number | undefined;
    if (
      version === 5 &&
      limits.maxKeepAlive < 65_535 &&
      (keepAlive === 0 || keepAlive > limits.maxKeepAlive)
    ) {
      keepAlive = serverKeepAlive = limits.maxKeepAlive;
    }
    const props = packet.properties;
    if (version === 5) {
      this.sendWindow = props?.receiveMaximum ?? 65_535;
      if (props?.maximumPacketSize !== undefined) this.clientMaxPacket = props.maximumPacketSize;
      this.aliasOutMax = Math.min(props?.topicAliasMaximum ?? 0, limits.outgoingTopicAliases);
    } else {
      this.sendWindow = limits.maxInflightOut;
    }
    this.phase = 'connected';
    this.writeConnack(sessionPresent, params, expiry !== requested ? expiry : undefined, serverKeepAlive);
    this.startKeepAlive(keepAlive);
    this.log.debug({ conn: conn.id, clientId, version, sessionPresent, user: principal.user }, 'connected');
    if (sessionPresent) this.resume(state);
    this.pump();
  }

  private writeConnack(
    sessionPresent: boolean,
    params: ConnectParams,
    sessionExpiry: number | undefined,
    serverKeepAlive: number | undefined,
  ): void {
    if (this.version !== 5) {
      // [MQTT-3.2.2-2/3]: Session Present reflects a resumed session.
      this.writeBytes(Buffer.from([0x20, 0x02, sessionPresent ? 1 : 0, 0]));
      return;
    }
    const limits = this.settings.limits;
    const properties: Record<string, unknown> = {
      receiveMaximum: limits.receiveMaximum,
      maximumPacketSize: limits.maxPacketSize,
      topicAliasMaximum: limits.topicAliasMaximum,
    };
    if (limits.maximumQoS < 2) properties['maximumQoS'] = limits.maximumQoS;
    if (this.settings.retained === undefined) properties['retainAvailable'] = false;
    if (params.assigned) properties['assignedClientIdentifier'] = params.clientId;
    if (sessionExpiry !== undefined) properties['sessionExpiryInterval'] = sessionExpiry;
    if (serverKeepAlive !== undefined) properties['serverKeepAlive'] = serverKeepAlive;
    this.writeBytes(encodePacket({ cmd: 'connack', sessionPresent, reasonCode: 0, properties }, 5));
  }

  /** A persistent session resumes: PUBRELs re-sent, subscriptions re-attached [MQTT-4.4.0-1]. */
  private resume(state: SessionState): void {
    for (const [id, r] of state.outbound) {
      if (r.released) {
        this.inflight.set(id, { sub: null, tag: 0, qos: 2, messageId: r.messageId, released: true });
        this.writeBytes(encodeAck('pubrel', id, 0, this.version));
      } else {
        // The core re-delivers the message (it was returned unacknowledged): same id, DUP set.
        this.resendIds.set(r.messageId, id);
      }
    }
    this.checkWindow();
    for (const record of state.subscriptions.values()) {
      try {
        this.openSubscription(record);
      } catch (e) {
        this.log.warn({ err: e, filter: record.filter }, 'stored subscription not restored');
      }
    }
  }

  // ---- keep-alive -----------------------------------------------------------------------------------

  private startKeepAlive(seconds: number): void {
    if (seconds <= 0) return;
    this.keepAliveMs = seconds * 1500;
    this.lastRead = this.now;
    this.armKeepAlive(this.keepAliveMs);
  }

  private armKeepAlive(ms: number): void {
    this.keepAliveTimer = this.settings.timers.setTimeout(() => this.checkKeepAlive(), ms);
  }

  private checkKeepAlive(): void {
    this.keepAliveTimer = null;
    if (this.phase !== 'connected') return;
    const idle = this.now - this.lastRead;
    if (idle < this.keepAliveMs) {
      this.armKeepAlive(this.keepAliveMs - idle);
      return;
    }
    // Our own flow control stops reading; a client we do not read from cannot prove it is alive.
    if (this.readingPaused) {
      this.lastRead = this.now;
      this.armKeepAlive(this.keepAliveMs);
      return;
    }
    this.log.debug({ idleMs: idle }, 'keep-alive timeout');
    // [MQTT-3.1.2-22] (5.0) / [MQTT-3.1.2-24] (3.1.1): disconnect as for a network failure.
    this.fail(new MqttError(RC.KEEP_ALIVE_TIMEOUT, `no packet for ${idle} ms`));
  }

  // ---- helpers for handlers -------------------------------------------------------------------------

  /**
   * Queues a PUBACK / PUBREC for an incoming PUBLISH; written in arrival order. `onFail` runs when the
   * PUBLISH was refused (its error given).
   */
  ackPublish(
    type: 'puback' | 'pubrec',
    packetId: number,
    result: Promise<void>,
    onFail?: (error: unknown) => void,
  ): void {
    const qos1 = type === 'puback';
    if (qos1) this.pendingPubacks++;
    this.acks.add(
      result,
      () => {
        if (qos1) this.pendingPubacks--;
        return encodeAck(type, packetId, 0, this.version);
      },
      (e) => {
        if (qos1) this.pendingPubacks--;
        onFail?.(e);
        if (this.version !== 5 && isStoreFailure(e)) {
          // 3.1.1 acknowledges refusals positively, but a message the store lost must not be: closing
          // without the ack makes the client publish it again on its next connection [MQTT-4.4.0-1].
          this.log.warn({ err: (e as Error).message, packetId }, 'PUBLISH not stored; closing');
          queueMicrotask(() => this.fail(e));
          return null;
        }
        this.log.debug({ err: (e as Error).message, packetId }, 'PUBLISH refused');
        // 3.1.1 cannot refuse a PUBLISH; it acknowledges positively [MQTT-3.3.5-2]. 5.0 says why.
        return encodeAck(
          type,
          packetId,
          this.version === 5 ? reasonOf(e, RC.TOPIC_NAME_INVALID) : 0,
          this.version,
        );
      },
    );
    if (this.acks.pending >= this.settings.limits.receiveMaximum) this.inboundBlocked = true;
  }

  /**
   * A QoS 0 PUBLISH the core has not accepted yet (a memory limit or a `block` slow-consumer policy holds
   * it, or a retained update is being stored). QoS 0 has no ack to delay, so flow control is TCP's: while
   * too many are pending the session stops reading the publisher, exactly as for unacked QoS 1/2.
   */
  paceQos0(result: Promise<void>): void {
    this.qos0Pending++;
    if (this.qos0Pending >= this.settings.limits.receiveMaximum) this.inboundBlocked = true;
    result.then(
      () => this.qos0Settled(),
      (e: unknown) => {
        this.publishRefused(e);
        this.qos0Settled();
      },
    );
  }

  private qos0Settled(): void {
    this.qos0Pending--;
    this.ackProgressed();
  }

  /** A QoS 0 PUBLISH (or a retained store update) the core refused: nothing to tell the client. */
  publishRefused(error: unknown): void {
    this.log.debug({ err: (error as Error).message }, 'PUBLISH refused');
  }

  writeAck(bytes: Uint8Array): void {
    this.writeBytes(bytes);
  }

  ackProgressed(): void {
    if (!this.inboundBlocked || this.phase === 'closed') return;
    const half = this.settings.limits.receiveMaximum >> 1;
    if (this.acks.pending <= half && this.qos0Pending <= half) {
      this.inboundBlocked = false;
      this.pump();
    }
  }

  writeAckNow(type: AckType, packetId: number, reason = 0): void {
    this.writeBytes(encodeAck(type, packetId, reason, this.version));
  }

  writePacket(packet: Packet): void {
    this.writeBytes(encodePacket(packet, this.version));
  }

  /** Holds output (deliveries made inside a SUBSCRIBE) until `releaseOutput`, after the SUBACK. */
  holdOutput(): void {
    this.held ??= [];
  }

  dropHeldOutput(): void {
    this.held = null;
  }

  releaseOutput(first: Uint8Array): void {
    const held = this.held ?? [];
    this.held = null;
    this.writeBytes(first);
    for (const b of held) this.writeBytes(b);
  }

  // ---- subscriptions --------------------------------------------------------------------------------

  /** Opens (or replaces, [MQTT-3.8.4-3]) the core subscription of `record`. Throws what the core throws. */
  openSubscription(record: SubscriptionRecord, parsedFilter?: ParsedFilter): MqttSubscription {
    const parsed = parsedFilter ?? parseStored(record.filter);
    const existing = this.subscriptions.get(record.filter);
    if (existing !== undefined) this.closeSubscription(existing);
    const durableName = this.state.persistent && parsed.shareGroup === undefined ? record.filter : undefined;
    const sub = new MqttSubscription(this, record, parsed, durableName);
    const explicit = record.qos > 0;
    const options: SubscribeOptions = {
      address: `topic://${filterToPattern(parsed.filter)}`,
      ackMode: explicit ? 'individual' : 'auto',
      prefetch: explicit ? Math.max(1, this.sendWindow) : this.settings.limits.autoPrefetch,
    };
    if (record.noLocal) options.noLocal = true;
    if (durableName !== undefined) options.durableName = durableName;
    if (parsed.shareGroup !== undefined) options.shareGroup = parsed.shareGroup;
    this.subscriptions.set(record.filter, sub);
    try {
      sub.core = this.conn.subscribe(options, sub);
    } catch (e) {
      this.subscriptions.delete(record.filter);
      throw e;
    }
    if (this.subsPaused) sub.core.pause();
    return sub;
  }

  closeSubscription(sub: MqttSubscription): void {
    if (this.subscriptions.get(sub.record.filter) === sub) this.subscriptions.delete(sub.record.filter);
    try {
      sub.core?.close();
    } catch (e) {
      this.log.debug({ err: e }, 'closing a subscription failed');
    }
  }

  subscriptionEnded(sub: MqttSubscription, reason: string): void {
    if (this.subscriptions.get(sub.record.filter) === sub) this.subscriptions.delete(sub.record.filter);
    this.log.debug({ filter: sub.record.filter, reason }, 'subscription ended by the broker');
  }

  /** Retained messages for a new subscription, with RETAIN set (3.3.1.3). */
  sendRetained(sub: MqttSubscription): void {
    const store = this.settings.retained;
    if (store === undefined) return;
    for (const message of store.match(filterToPattern(sub.parsed.filter))) {
      if (sub.parsed.filter.startsWith('+') || sub.parsed.filter.startsWith('#')) {
        if (message.address.charCodeAt(8) === 36) continue; // [MQTT-4.7.2-1]
      }
      if (this.windowFull || this.retainedBacklog.length > 0) this.retainedBacklog.push({ sub, message });
      else this.publish(sub, message, 0, false, true);
    }
  }

  // ---- core -> session: the PUBLISH hot path --------------------------------------------------------

  deliverMessage(sub: MqttSubscription, delivery: Delivery): void {
    if (this.phase !== 'connected') return;
    this.publish(sub, delivery.message, delivery.tag, delivery.redelivered, false);
  }

  /**
   * Sends `message` on `sub`; `tag` > 0 is the core delivery to acknowledge once the client has it
   * (at once for QoS 0; on PUBACK; on PUBREC for QoS 2, when the client owns the message).
   */
  private publish(
    sub: MqttSubscription,
    message: Message,
    tag: number,
    redelivered: boolean,
    retained: boolean,
  ): void {
    const core = sub.core;
    // The clock is read only for a message that can expire (per delivery, it showed in profiles).
    let now = 0;
    if (message.expiration !== 0) {
      now = this.now;
      if (message.expiration <= now) {
        if (tag > 0 && sub.explicit) core?.ack(tag);
        return;
      }
    }
    // [MQTT-3.8.4-8]: the minimum of the published and the granted QoS.
    const published = publishedQos(message);
    const qos = Math.min(published, sub.record.qos) as QoS;
    const retain = retained || (sub.record.retainAsPublished && message.properties[PROP_RETAIN] === true);
    const properties = this.version === 5 ? publishProperties(message, now, sub.subscriptionIds) : undefined;
    if (qos === 0 && properties === undefined && this.aliasOutMax === 0) {
      // Nothing in the packet is this session's own: the bytes are shared by all such subscribers.
      const bytes = sharedQos0Publish(message, retain, this.version);
      if (bytes.length > this.clientMaxPacket) {
        this.dropOversized(sub, tag, message);
        return;
      }
      if (tag > 0 && sub.explicit) core?.ack(tag);
      this.writeBytes(bytes);
      return;
    }
    const topic = addressTopic(message.address) ?? message.address;
    const out: OutgoingPublish = { topic, qos, packetId: 0, dup: false, retain, payload: message.body };
    if (properties !== undefined) out.properties = properties;
    // [MQTT-3.1.2-25] never send more than the client's Maximum Packet Size: drop it as if delivered.
    if (
      this.clientMaxPacket !== Number.POSITIVE_INFINITY &&
      publishSize(out, this.version) > this.clientMaxPacket
    ) {
      this.dropOversized(sub, tag, message);
      return;
    }
    if (this.aliasOutMax > 0) this.applyAlias(out);
    if (qos > 0) {
      let id: number | undefined;
      if (redelivered && this.resendIds.size > 0) {
        id = this.resendIds.get(message.id);
        if (id !== undefined) this.resendIds.delete(message.id);
      }
      out.dup = id !== undefined || redelivered;
      id ??= this.allocatePacketId();
      out.packetId = id;
      const q = qos as 1 | 2;
      this.inflight.set(id, {
        sub: tag > 0 ? sub : null,
        tag,
        qos: q,
        messageId: message.id,
        released: false,
      });
      this.state.setOutbound(id, { messageId: message.id, qos: q, released: false });
      this.checkWindow();
    } else if (tag > 0 && sub.explicit) {
      core?.ack(tag);
    }
    this.writeBytes(encodePublish(out, this.version));
  }

  /** [MQTT-3.1.2-25] a PUBLISH over the client's Maximum Packet Size is dropped as if delivered. */
  private dropOversized(sub: MqttSubscription, tag: number, message: Message): void {
    if (tag > 0 && sub.explicit) sub.core?.ack(tag);
    this.log.debug(
      { address: message.address, size: message.body.length },
      'message over the client maximum packet size: dropped',
    );
  }

  /**
   * Outgoing Topic Alias (3.3.2.3.4): the first PUBLISH on a topic carries the topic and a new alias, the
   * following ones the alias and an empty topic, while aliases last (up to what the client allows).
   */
  private applyAlias(out: OutgoingPublish): void {
    let alias = this.aliasesOut.get(out.topic);
    if (alias !== undefined) out.topic = '';
    else if (this.aliasesOut.size < this.aliasOutMax) {
      alias = this.aliasesOut.size + 1;
      this.aliasesOut.set(out.topic, alias);
    } else return;
    out.properties = { ...out.properties, topicAlias: alias };
  }

  private allocatePacketId(): number {
    const state = this.state;
    for (let tries = 0; tries < MAX_PACKET_ID; tries++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === MAX_PACKET_ID ? 1 : id + 1;
      if (!this.inflight.has(id) && !state.outbound.has(id)) return id;
    }
    // Unreachable while the window (at most 65,535) bounds what is in flight.
    throw new MqttError(RC.RECEIVE_MAXIMUM_EXCEEDED, 'no free packet identifier');
  }

  /** PUBACK from the client. */
  completeQos1(packetId: number): void {
    const f = this.inflight.get(packetId);
    if (f === undefined || f.qos !== 1) return; // unknown id: nothing to do (a late duplicate)
    this.inflight.delete(packetId);
    this.state.removeOutbound(packetId);
    this.ackCore(f);
    this.checkWindow();
  }

  /** PUBREC from the client: it owns the message now; returns false when the id is unknown. */
  releaseQos2(packetId: number, refused: boolean): boolean {
    const f = this.inflight.get(packetId);
    if (f === undefined || f.qos !== 2) return false;
    if (!f.released) this.ackCore(f);
    if (refused) {
      // MQTT 5 4.3.3: a PUBREC with a failure code ends the exchange; no PUBREL.
      this.inflight.delete(packetId);
      this.state.removeOutbound(packetId);
      this.checkWindow();
      return true;
    }
    if (!f.released) {
      f.released = true;
      this.state.setOutbound(packetId, { messageId: f.messageId, qos: 2, released: true });
    }
    return true;
  }

  /** PUBCOMP from the client. */
  completeQos2(packetId: number): void {
    const f = this.inflight.get(packetId);
    if (f === undefined || f.qos !== 2 || !f.released) return;
    this.inflight.delete(packetId);
    this.state.removeOutbound(packetId);
    this.checkWindow();
  }

  private ackCore(f: Inflight): void {
    if (f.sub === null || f.tag === 0) return;
    try {
      f.sub.core?.ack(f.tag);
    } catch {
      // The subscription was closed meanwhile (UNSUBSCRIBE, takeover): the core took the message back.
    }
  }

  /** Receive Maximum (4.9): at the client's limit, the core subscriptions pause. */
  private checkWindow(): void {
    const full = this.inflight.size >= this.sendWindow;
    if (full === this.windowFull) return;
    this.windowFull = full;
    if (!full) this.drainRetained();
    this.updatePause();
  }

  private drainRetained(): void {
    while (this.retainedBacklog.length > 0 && !this.windowFull && this.phase === 'connected') {
      const { sub, message } = this.retainedBacklog.shift()!;
      this.publish(sub, message, 0, false, true);
    }
  }

  private updatePause(): void {
    const pause = this.writeBlocked || this.windowFull;
    if (pause === this.subsPaused || this.phase === 'closed') return;
    this.subsPaused = pause;
    for (const sub of this.subscriptions.values()) {
      if (pause) sub.core?.pause();
      else sub.core?.resume();
    }
  }

  // ---- output ---------------------------------------------------------------------------------------

  private writeBytes(bytes: Uint8Array): void {
    if (this.phase === 'closed') return;
    if (this.held !== null) {
      this.held.push(bytes);
      return;
    }
    if (!this.transport.write(bytes) && !this.writeBlocked) this.blockOutput();
  }

  private blockOutput(): void {
    this.writeBlocked = true;
    this.updatePause();
    this.transport.onDrain(() => this.unblockOutput());
    const timeout = this.settings.limits.slowConsumerTimeoutMs;
    this.slowTimer = this.settings.timers.setTimeout(() => this.slowConsumer(timeout), timeout);
  }

  private unblockOutput(): void {
    if (!this.writeBlocked || this.phase === 'closed') return;
    this.writeBlocked = false;
    this.clearSlowTimer();
    this.updatePause();
  }

  private slowConsumer(timeout: number): void {
    this.slowTimer = null;
    if (this.phase === 'closed' || !this.writeBlocked) return;
    this.log.warn(
      { clientId: this.clientId, timeoutMs: timeout },
      'slow consumer: output not drained, dropping',
    );
    this.teardown(true);
    this.transport.destroy();
  }

  // ---- closing --------------------------------------------------------------------------------------

  /**
   * A protocol violation or a condition that ends the connection: DISCONNECT with the reason (MQTT 5,
   * once connected) and close. Before CONNECT completes, MQTT 5 answers with CONNACK instead.
   */
  fail(error: unknown): void {
    if (this.phase === 'closed') return;
    const reason = error instanceof MqttError ? error.reason : RC.UNSPECIFIED;
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof MqttError) this.log.debug({ reason, err: message }, 'closing the connection');
    else this.log.error({ err: error }, 'unexpected failure; closing the connection');
    this.halted = true;
    if (this.phase === 'awaiting-connect' || this.phase === 'connecting') {
      // [MQTT-3.1.2-2]: an unsupported protocol level is answered with CONNACK 0x01 (3.1.1 form).
      if (reason === RC.UNSUPPORTED_PROTOCOL_VERSION)
        this.transport.write(Buffer.from([0x20, 0x02, 0x00, 0x01]));
      this.teardown(false);
      this.transport.end();
      return;
    }
    if (this.version === 5) {
      this.held = null;
      this.writeBytes(
        encodePacket(
          { cmd: 'disconnect', reasonCode: reason, properties: { reasonString: message.slice(0, 200) } },
          5,
        ),
      );
    }
    this.teardown(true);
    this.transport.end();
  }

  /** DISCONNECT from the client: the Will is dropped unless MQTT 5 reason 0x04 asks for it. */
  disconnect(publishWill: boolean): void {
    this.halted = true;
    this.teardown(publishWill);
    this.transport.end();
  }

  takeOver(): void {
    if (this.phase === 'closed') return;
    this.log.debug({ clientId: this.clientId }, 'session taken over');
    if (this.version === 5) {
      this.held = null;
      this.writeBytes(encodePacket({ cmd: 'disconnect', reasonCode: RC.SESSION_TAKEN_OVER }, 5));
    }
    this.halted = true;
    this.teardown(true);
    this.transport.end();
  }

  /** Releases everything the connection holds in the core; idempotent. */
  private teardown(publishWill: boolean): void {
    if (this.phase === 'closed') return;
    const wasConnected = this.phase === 'connected';
    this.phase = 'closed';
    this.halted = true;
    if (this.keepAliveTimer !== null) this.settings.timers.clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = null;
    this.clearSlowTimer();
    this.acks.stop();
    this.retainedBacklog.length = 0;
    const conn = this.connection;
    const state = this.sessionState;
    if (conn !== null && state !== null && !state.persistent) {
      // A session made non-persistent by DISCONNECT (MQTT 5 expiry 0) drops its durable subscriptions.
      for (const sub of this.subscriptions.values()) {
        if (sub.durableName === undefined) continue;
        this.closeSubscription(sub);
        try {
          conn.unsubscribeDurable(sub.durableName);
        } catch {
          // Already gone.
        }
      }
    }
    this.subscriptions.clear();
    this.connection = null;
    if (conn !== null) {
      try {
        // Returns unacknowledged deliveries: durable ones are re-delivered when the session resumes.
        conn.close();
      } catch (e) {
        this.log.error({ err: e }, 'core connection close failed');
      }
    }
    if (!wasConnected) return;
    if (publishWill && this.will !== undefined) {
      const delay = state?.persistent ? Math.min(this.willDelay, state.expiryInterval) : 0;
      this.settings.registry.scheduleWill(this.clientId, this.will, delay);
    }
    this.settings.registry.release(this.clientId, this, state ?? undefined);
  }

  private clearSlowTimer(): void {
    if (this.slowTimer !== null) this.settings.timers.clearTimeout(this.slowTimer);
    this.slowTimer = null;
  }
}

/** The store failed (or shut down) under a write: nothing about the message is known to be kept. */
export function isStoreFailure(e: unknown): boolean {
  return isBlazeError(e) && (e.code === 'STORE' || e.code === 'CLOSED');
}

function parseStored(filter: string): ParsedFilter {
  if (!filter.startsWith('$share/')) return { filter };
  const slash = filter.indexOf('/', 7);
  return { filter: filter.slice(slash + 1), shareGroup: filter.slice(7, slash) };
}

/** Packets whose fixed layout carries a Packet Identifier (2.2.1). */
const WITH_PACKET_ID = new Set(['puback', 'pubrec', 'pubrel', 'pubcomp', 'subscribe', 'unsubscribe']);

/**
 * [MQTT-2.2.1-3] a Packet Identifier is a non-zero 16-bit integer. mqtt-packet hands a truncated one over
 * as -1 (or leaves it out); such a packet is malformed, and must never be echoed back in an ack.
 */
function checkPacketId(packet: Packet): void {
  const needsId = WITH_PACKET_ID.has(packet.cmd) || (packet.cmd === 'publish' && packet.qos > 0);
  if (!needsId) return;
  const id = (packet as { messageId?: number }).messageId;
  if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffff) {
    throw new MqttError(RC.MALFORMED_PACKET, `invalid packet identifier ${String(id)} in ${packet.cmd}`);
  }
}
