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
 * Helpers with one job each: `Outbound` (outbound.ts: outgoing PUBLISH, in-flight window),
 * `SessionOutput` (output.ts: batching, held output, transport back-pressure), `KeepAlive`
 * (keep-alive.ts), `IncomingAliases` (topic-alias.ts), `AckQueue` (ack-queue.ts: ordered PUBACK/PUBREC).
 *
 * Flow control, both edges:
 *  - output: blocked output (transport over its high-water mark) or a full in-flight window (the
 *    client's Receive Maximum, 4.9) pauses every core subscription of the session;
 *  - input: while `receiveMaximum` PUBLISH acks await the core (persistent sends not yet durable) no
 *    further packet is read, so a producer faster than the store is slowed by TCP;
 *  - input per turn: the transport reads at most `limits.inputTurnBytes` per turn (net/input-turn-limit.ts),
 *    so the output this input causes is written before more is read and a fast publisher's backlog waits
 *    in the kernel rather than in the broker's heap.
 */
import type { IConnectPacket, Packet } from 'mqtt-packet';
import type { CoreConnection, Delivery, Principal, SubscribeOptions } from '../../core/api.js';
import type { ProtocolSession, Transport } from '../../net/transport.js';
import { isBlazeError } from '../../util/errors.js';
import { enterInput, leaveInput } from '../../util/input-turn.js';
import type { Logger } from '../../util/logger.js';
import { AckQueue, type AckSink, type PublishAckType } from './ack-queue.js';
import { MqttDecoder, type ProtocolVersion } from './codec/decoder.js';
import { type AckType, encodeAck, encodePacket } from './codec/encoder.js';
import type { ResolvedMqttContext } from './context.js';
import { handlerFor } from './handlers/index.js';
import { KeepAlive, type KeepAliveOwner } from './keep-alive.js';
import { Outbound, type OutboundOwner } from './outbound.js';
import { type OutputOwner, SessionOutput } from './output.js';
import { MqttError, RC, reasonOf, v3ConnackCode } from './reason-codes.js';
import type { LiveSession, WillMessage } from './registry.js';
import { NEVER_EXPIRES, SessionState, type SubscriptionRecord } from './state.js';
import { type DeliveryTarget, MqttSubscription } from './subscriptions.js';
import { IncomingAliases } from './topic-alias.js';
import { filterToPattern, type ParsedFilter, parseFilter } from './topics.js';

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

export class MqttSession
  implements ProtocolSession, DeliveryTarget, AckSink, LiveSession, OutboundOwner, OutputOwner, KeepAliveOwner
{
  readonly settings: ResolvedMqttContext;
  readonly decoder: MqttDecoder;
  version: ProtocolVersion = 4;
  clientId = '';
  /** Subscriptions by filter text (as subscribed, `$share/...` included). */
  readonly subscriptions = new Map<string, MqttSubscription>();
  /** Topic aliases the client defined (MQTT 5 3.3.2.3.4). */
  readonly aliasesIn = new IncomingAliases();
  readonly acks: AckQueue;
  readonly outbound: Outbound;
  /** QoS 1 PUBACKs not yet written (Receive Maximum accounting). */
  pendingPubacks = 0;

  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly output: SessionOutput;
  private readonly keepAlive: KeepAlive;
  private phase: Phase = 'awaiting-connect';
  private connection: CoreConnection | null = null;
  private sessionState: SessionState | null = null;
  private will: WillMessage | undefined;
  private willDelay = 0;
  /** Set once no further packet may be processed (a violation, or DISCONNECT). */
  private halted = false;
  private pumping = false;
  /** Core subscriptions paused: output blocked or the in-flight window full. */
  private subsPaused = false;
  private inboundBlocked = false;
  /** QoS 0 PUBLISHes the core has not accepted yet (see paceQos0). */
  private qos0Pending = 0;
  private paused = false;

  constructor(transport: Transport, settings: ResolvedMqttContext) {
    this.transport = transport;
    this.settings = settings;
    this.log = settings.logger.child({ protocol: 'mqtt', remote: transport.remoteAddress });
    this.decoder = new MqttDecoder(settings.limits.maxPacketSize);
    this.acks = new AckQueue(this);
    this.outbound = new Outbound(this, this.log);
    this.output = new SessionOutput(transport, settings.timers, settings.limits.slowConsumerTimeoutMs, this);
    this.keepAlive = new KeepAlive(settings.timers, this);
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

  /** Reading from the transport is paused by our own flow control (see keep-alive.ts). */
  get readingPaused(): boolean {
    return this.paused;
  }

  get now(): number {
    return this.settings.timers.now();
  }

  // ---- transport -> session ------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    this.keepAlive.touch();
    this.decoder.push(chunk);
    enterInput();
    try {
      this.pump();
    } catch (e) {
      // Only a bug gets here (handlers' errors are caught per packet): drop this connection only.
      this.log.error({ err: e }, 'MQTT session failed');
      this.teardown(true);
      this.transport.destroy();
    } finally {
      leaveInput();
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
    if (pause === this.paused) return;
    this.paused = pause;
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
        onEvict: (reason) => this.evict(reason),
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
      this.outbound.configure(
        props?.receiveMaximum ?? 65_535,
        props?.maximumPacketSize ?? Number.POSITIVE_INFINITY,
        Math.min(props?.topicAliasMaximum ?? 0, limits.outgoingTopicAliases),
      );
    } else {
      this.outbound.configure(limits.maxInflightOut, Number.POSITIVE_INFINITY, 0);
    }
    this.phase = 'connected';
    this.writeConnack(sessionPresent, params, expiry !== requested ? expiry : undefined, serverKeepAlive);
    this.keepAlive.start(keepAlive);
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
      this.write(Buffer.from([0x20, 0x02, sessionPresent ? 1 : 0, 0]));
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
    this.write(encodePacket({ cmd: 'connack', sessionPresent, reasonCode: 0, properties }, 5));
  }

  /** A persistent session resumes: PUBRELs re-sent, subscriptions re-attached [MQTT-4.4.0-1]. */
  private resume(state: SessionState): void {
    this.outbound.resume(state);
    for (const record of state.subscriptions.values()) {
      try {
        this.openSubscription(record);
      } catch (e) {
        this.log.warn({ err: e, filter: record.filter }, 'stored subscription not restored');
      }
    }
  }

  keepAliveExpired(idleMs: number): void {
    if (this.phase !== 'connected') return;
    this.log.debug({ idleMs }, 'keep-alive timeout');
    // [MQTT-3.1.2-22] (5.0) / [MQTT-3.1.2-24] (3.1.1): disconnect as for a network failure.
    this.fail(new MqttError(RC.KEEP_ALIVE_TIMEOUT, `no packet for ${idleMs} ms`));
  }

  // ---- helpers for handlers -------------------------------------------------------------------------

  /**
   * Queues a PUBACK / PUBREC for an incoming PUBLISH; written in arrival order. `onFail` runs when the
   * PUBLISH was refused (its error given). Nothing is allocated per PUBLISH here (ack-queue.ts): the
   * bytes are built by `publishAccepted` / `publishRefusedAck` once the outcome is known.
   */
  ackPublish(
    type: PublishAckType,
    packetId: number,
    result: Promise<void>,
    onFail?: (error: unknown) => void,
  ): void {
    if (type === 'puback') this.pendingPubacks++;
    this.acks.addPublish(result, type, packetId, onFail);
    if (this.acks.pending >= this.settings.limits.receiveMaximum) this.inboundBlocked = true;
  }

  publishAccepted(type: PublishAckType, packetId: number): Uint8Array {
    if (type === 'puback') this.pendingPubacks--;
    return encodeAck(type, packetId, 0, this.version);
  }

  publishRefusedAck(
    type: PublishAckType,
    packetId: number,
    e: unknown,
    onFail: ((error: unknown) => void) | undefined,
  ): Uint8Array | null {
    if (type === 'puback') this.pendingPubacks--;
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
    this.write(bytes);
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
    this.write(encodeAck(type, packetId, reason, this.version));
  }

  writePacket(packet: Packet): void {
    this.write(encodePacket(packet, this.version));
  }

  /** Holds output (deliveries made inside a SUBSCRIBE) until `releaseOutput`, after the SUBACK. */
  holdOutput(): void {
    this.output.hold();
  }

  dropHeldOutput(): void {
    this.output.dropHeld();
  }

  releaseOutput(first: Uint8Array): void {
    this.output.release(first);
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
      prefetch: explicit ? Math.max(1, this.outbound.sendWindow) : this.settings.limits.autoPrefetch,
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
      if (!sub.excludes(message.address)) this.outbound.sendRetained(sub, message);
    }
  }

  // ---- core -> session: the PUBLISH hot path --------------------------------------------------------

  deliverMessage(sub: MqttSubscription, delivery: Delivery): void {
    if (this.phase !== 'connected') return;
    this.outbound.publish(sub, delivery.message, delivery.tag, delivery.redelivered, false);
  }

  windowChanged(): void {
    this.updatePause();
  }

  outputBlockedChanged(): void {
    this.updatePause();
  }

  private updatePause(): void {
    const pause = this.output.blocked || this.outbound.windowFull;
    if (pause === this.subsPaused || this.phase === 'closed') return;
    this.subsPaused = pause;
    for (const sub of this.subscriptions.values()) {
      if (pause) sub.core?.pause();
      else sub.core?.resume();
    }
  }

  // ---- output ---------------------------------------------------------------------------------------

  /** Every packet of the session goes out here (see output.ts). */
  write(bytes: Uint8Array): void {
    if (this.phase !== 'closed') this.output.write(bytes);
  }

  writeAfterRecord(bytes: Uint8Array): void {
    if (this.phase === 'closed') return;
    const store = this.settings.registry.store;
    if (!store.durable || !this.state.persistent) this.output.write(bytes);
    else this.output.writeAfter(store.flushed(), bytes);
  }

  slowConsumer(timeoutMs: number): void {
    if (this.phase === 'closed') return;
    this.log.warn({ clientId: this.clientId, timeoutMs }, 'slow consumer: output not drained, dropping');
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
      this.output.dropHeld();
      this.write(
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

  /**
   * An operator closed the connection (management API): MQTT 5 DISCONNECT 0x98 Administrative action
   * (3.14.2.1); MQTT 3.1.1 has no server DISCONNECT, so the network connection is just closed. The Will
   * is published: the server closed the connection without a DISCONNECT 0x00 from the client (3.1.2.5).
   */
  private evict(reason: string): void {
    if (this.phase === 'closed') return;
    this.log.info({ clientId: this.clientId, reason }, 'connection closed by an administrator');
    if (this.version === 5) {
      this.output.dropHeld();
      this.write(
        encodePacket(
          {
            cmd: 'disconnect',
            reasonCode: RC.ADMINISTRATIVE_ACTION,
            properties: { reasonString: reason.slice(0, 200) },
          },
          5,
        ),
      );
    }
    this.halted = true;
    this.teardown(true);
    this.transport.end();
  }

  takeOver(): void {
    if (this.phase === 'closed') return;
    this.log.debug({ clientId: this.clientId }, 'session taken over');
    if (this.version === 5) {
      this.output.dropHeld();
      this.write(encodePacket({ cmd: 'disconnect', reasonCode: RC.SESSION_TAKEN_OVER }, 5));
    }
    this.halted = true;
    this.teardown(true);
    this.transport.end();
  }

  /** Releases everything the connection holds in the core; idempotent. */
  private teardown(publishWill: boolean): void {
    if (this.phase === 'closed') return;
    const wasConnected = this.phase === 'connected';
    // What was collected this turn (deliveries, a DISCONNECT) still goes out before the transport ends.
    this.output.close();
    this.phase = 'closed';
    this.halted = true;
    this.keepAlive.stop();
    this.acks.stop();
    this.outbound.clear();
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
}

/** The store failed (or shut down) under a write: nothing about the message is known to be kept. */
export function isStoreFailure(e: unknown): boolean {
  return isBlazeError(e) && (e.code === 'STORE' || e.code === 'CLOSED');
}

/** A filter read back from the session state (validated when it was subscribed). */
function parseStored(filter: string): ParsedFilter {
  const parsed = parseFilter(filter);
  if (parsed === undefined)
    throw new MqttError(RC.TOPIC_FILTER_INVALID, `stored filter '${filter}' is invalid`);
  return parsed;
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
