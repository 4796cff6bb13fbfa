/**
 * One STOMP connection: frames in from the transport, one core call per frame, frames out.
 *
 * Phases: awaiting-connect -> connecting (authenticating; reading paused) -> connected -> closed.
 * Every failure goes through `fail`, which queues it behind the outcomes of earlier frames (see
 * completions.ts), then sends ERROR and closes (1.2 "ERROR": the server closes right after it).
 *
 * Back-pressure, both edges:
 *  - output: `transport.write` returning false pauses every core subscription of the connection until
 *    the transport drains; if it does not drain within `slowConsumerTimeoutMs` the client is dropped;
 *  - input: frames are pulled from the decoder only while fewer than `maxInflight` operations await the
 *    core, so a producer faster than the store is slowed by TCP instead of filling memory.
 */
import type { CoreConnection, Delivery, Principal, SubscribeOptions } from '../../core/api.js';
import { ACCEPTED } from '../../core/index.js';
import type { ProtocolSession, Transport } from '../../net/transport.js';
import { BlazeError } from '../../util/errors.js';
import { enterInput, flushAfterTurn, inInputTurn, leaveInput } from '../../util/input-turn.js';
import type { Logger } from '../../util/logger.js';
import { StompDecoder } from './codec/decoder.js';
import { encodeFrame, FrameAllocator, HEARTBEAT } from './codec/encoder.js';
import { escapeHeader } from './codec/escape.js';
import type { OutgoingFrame, StompFrame, StompVersion } from './codec/frame.js';
import { type CompletionSink, OrderedCompletions, type Outcome } from './completions.js';
import type { ResolvedStompContext } from './context.js';
import { DestinationMapper } from './destinations.js';
import { errorFrame, isExpectedError, missingHeader } from './errors.js';
import { ackFrame, handleFastAck } from './handlers/ack.js';
import { handlerFor } from './handlers/index.js';
import { Heartbeats } from './heartbeat.js';
import { destinationLine, messageBound, writeMessage } from './message-out.js';
import type { HeartbeatAgreement } from './negotiate.js';
import { type DeliveryTarget, StompSubscription, SubscriptionRegistry } from './subscriptions.js';

type Phase = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

/** Shared by every session: frames are cut from common slabs (see FrameAllocator). */
const allocator = new FrameAllocator();

/** Tag out-parameter of StompDecoder.nextAck. */
const fastTag = [0];
/**
 * MESSAGE batching per input turn (util/input-turn.ts): a session's queued frames are written once their
 * worst-case size reaches this.
 */
const BATCH_BYTES = 64 * 1024;

export interface ConnectParams {
  version: StompVersion;
  heartbeat: HeartbeatAgreement;
  clientId: string | undefined;
}

export class StompSession implements ProtocolSession, DeliveryTarget, CompletionSink {
  readonly settings: ResolvedStompContext;
  readonly subscriptions = new SubscriptionRegistry();
  /** Open STOMP transactions; the names are the client's, used as core transaction ids. */
  readonly transactions = new Set<string>();
  /** Escaping rules for what we write; the negotiated version once CONNECT has been read. */
  version: StompVersion = '1.0';

  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly decoder: StompDecoder;
  private readonly completions: OrderedCompletions;
  private readonly heartbeats: Heartbeats;
  private phase: Phase = 'awaiting-connect';
  private connection: CoreConnection | null = null;
  private mapper: DestinationMapper | null = null;
  /** Set once no further frame may be processed (an error is queued, or DISCONNECT was received). */
  private halted = false;
  private pumping = false;
  private inflightBlocked = false;
  private readingPaused = false;
  private writeBlocked = false;
  private slowTimer: unknown = null;
  private expectEvery = 0;
  /** MESSAGE frames not written yet (see util/input-turn.ts): subscription and delivery, side by side. */
  private readonly outSubs: StompSubscription[] = [];
  private readonly outDeliveries: Delivery[] = [];
  private outBound = 0;
  private queued = false;
  /** Canonical address -> escaped STOMP destination, for MESSAGE `destination` and `reply-to`. */
  private readonly renderEscaped = (address: string): string =>
    escapeHeader(this.mapper!.render(address), this.version);

  constructor(transport: Transport, settings: ResolvedStompContext) {
    this.transport = transport;
    this.settings = settings;
    this.log = settings.logger.child({ protocol: 'stomp', remote: transport.remoteAddress });
    this.decoder = new StompDecoder({ limits: settings.limits });
    this.completions = new OrderedCompletions(this);
    this.heartbeats = new Heartbeats(settings.timers, {
      sendBeat: () => this.writeBytes(HEARTBEAT),
      peerSilent: (ms) => this.peerSilent(ms),
    });
  }

  /** The core connection; handlers run only once it exists. */
  get conn(): CoreConnection {
    if (this.connection === null) throw new BlazeError('CLOSED', 'Not connected');
    return this.connection;
  }

  get destinations(): DestinationMapper {
    if (this.mapper === null) throw new BlazeError('CLOSED', 'Not connected');
    return this.mapper;
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  // ---- transport -> session ------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    if (this.expectEvery > 0) this.heartbeats.markRead();
    this.decoder.push(chunk);
    enterInput();
    try {
      this.pump();
    } catch (e) {
      // Only a bug gets here (handlers' errors are caught per frame): drop this connection, not the process.
      this.log.error({ err: e }, 'STOMP session failed');
      this.teardown();
      this.transport.destroy();
    } finally {
      leaveInput();
    }
  }

  onClose(error?: Error): void {
    if (this.phase === 'closed') return;
    if (error) this.log.debug({ err: error.message }, 'transport closed with an error');
    this.teardown();
  }

  /** Pulls and handles frames while nothing holds processing back. Never throws. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (
        !this.halted &&
        !this.inflightBlocked &&
        (this.phase === 'awaiting-connect' || this.phase === 'connected')
      ) {
        if (this.phase === 'connected' && this.version === '1.2') {
          const index = this.decoder.nextAck(fastTag);
          if (index >= 0) {
            this.fastAck(index, fastTag[0]!);
            continue;
          }
        }
        let frame: StompFrame | null;
        try {
          frame = this.decoder.next();
        } catch (e) {
          this.fail(e, undefined);
          break;
        }
        if (frame === null) break;
        this.dispatch(frame);
      }
    } finally {
      this.pumping = false;
    }
    this.updateReading();
  }

  private dispatch(frame: StompFrame): void {
    try {
      if (this.phase === 'awaiting-connect') {
        if (frame.command !== 'CONNECT' && frame.command !== 'STOMP') {
          // 1.2 "Connecting": a client MUST open with CONNECT (or STOMP).
          throw new BlazeError(
            'BAD_REQUEST',
            `Expected a CONNECT frame first, got ${printable(frame.command)}`,
          );
        }
      }
      const handler = handlerFor(frame.command, this.phase === 'awaiting-connect' ? null : this.version);
      if (handler === undefined) {
        throw new BlazeError(
          'BAD_REQUEST',
          `Unknown command ${printable(frame.command)} (STOMP ${this.version})`,
        );
      }
      handler(this, frame);
    } catch (e) {
      this.fail(e, frame);
    }
  }

  /** An ACK from the decoder's fast path: handled like `dispatch` would handle its frame. */
  private fastAck(index: number, tag: number): void {
    try {
      if (!handleFastAck(this, index, tag)) this.dispatch(ackFrame(index, tag));
    } catch (e) {
      this.fail(e, ackFrame(index, tag));
    }
  }

  private updateReading(): void {
    const pause = this.phase === 'connecting' || this.halted || this.inflightBlocked;
    if (pause === this.readingPaused || this.phase === 'closed') return;
    this.readingPaused = pause;
    if (pause) this.transport.pauseReading();
    else this.transport.resumeReading();
  }

  // ---- CONNECT ------------------------------------------------------------------------------------

  /** Called by the CONNECT handler once the frame is valid: authentication is under way. */
  beginConnecting(frame: StompFrame, params: ConnectParams, auth: Promise<Principal | null>): void {
    this.phase = 'connecting';
    this.version = params.version;
    auth.then(
      (principal) => this.finishConnect(frame, params, principal),
      (e: unknown) => {
        if (this.phase === 'connecting') this.fail(e, frame);
      },
    );
  }

  private finishConnect(frame: StompFrame, params: ConnectParams, principal: Principal | null): void {
    if (this.phase !== 'connecting') return;
    if (principal === null) {
      this.fail(new BlazeError('UNAUTHENTICATED', 'Authentication failed'), frame);
      return;
    }
    let conn: CoreConnection;
    try {
      conn = this.settings.core.connect({
        principal,
        clientId: params.clientId,
        protocol: 'stomp',
        remoteAddress: this.transport.remoteAddress,
        onEvict: (reason) => this.evict(reason),
      });
    } catch (e) {
      this.fail(e, frame);
      return;
    }
    this.connection = conn;
    this.mapper = new DestinationMapper(
      (kind) => conn.createTemporary(kind),
      this.settings.limits.maxTemporaries,
    );
    this.decoder.version = params.version;
    this.phase = 'connected';
    const headers: Record<string, string> = {};
    if (params.version !== '1.0') {
      headers['version'] = params.version;
      headers['heart-beat'] = params.heartbeat.header;
    }
    headers['session'] = conn.id;
    headers['server'] = this.settings.serverName;
    this.writeFrame({ command: 'CONNECTED', headers });
    this.expectEvery = params.heartbeat.expectEvery;
    this.heartbeats.start(
      params.heartbeat.sendEvery,
      params.heartbeat.expectEvery,
      this.settings.heartbeat.graceFactor,
    );
    this.log.debug({ conn: conn.id, version: params.version, user: principal.user }, 'connected');
    this.pump();
  }

  // ---- helpers for handlers -----------------------------------------------------------------------

  /** The frame's operation succeeded now: RECEIPT (in order) if it asked for one. */
  done(frame: StompFrame, after?: () => void): void {
    // Hot path (SEND and ACK without receipt): nothing to report, so no outcome object either.
    if (after === undefined && frame.headers['receipt'] === undefined) return;
    this.completions.succeeded(outcomeOf(frame, after));
  }

  /** The frame's operation completes with `promise`: RECEIPT or ERROR then, in frame order. */
  track(promise: Promise<void>, frame: StompFrame): void {
    // Hot path: an operation the core accepted synchronously completes now, without a microtask per
    // frame, as long as nothing before it is still pending (replies stay in frame order).
    if (promise === ACCEPTED && this.completions.pending === 0) {
      this.done(frame);
      return;
    }
    this.completions.track(promise, outcomeOf(frame));
    if (this.completions.pending >= this.settings.limits.maxInflight) this.inflightBlocked = true;
  }

  /** The frame's `transaction` header, checked to name an open transaction. */
  transactionOf(frame: StompFrame): string | undefined {
    const tx = frame.headers['transaction'];
    if (tx === undefined) return undefined;
    if (!this.transactions.has(tx)) throw new BlazeError('NOT_FOUND', `Unknown transaction '${tx}'`);
    return tx;
  }

  requireHeader(frame: StompFrame, name: string): string {
    const v = frame.headers[name];
    if (v === undefined || v === '') throw missingHeader(frame.command, name);
    return v;
  }

  /** DISCONNECT: nothing more is read; RECEIPT after every earlier outcome, then a graceful close. */
  disconnect(frame: StompFrame): void {
    this.halted = true;
    this.completions.succeeded({
      receipt: frame.headers['receipt'],
      command: frame.command,
      after: () => this.close(),
    });
  }

  openSubscription(
    id: string,
    options: SubscribeOptions,
    durableName: string | undefined,
  ): StompSubscription {
    const index = this.subscriptions.allocateIndex();
    const prefix = 'MESSAGE\nsubscription:' + escapeHeader(id, this.version) + '\nmessage-id:';
    const sub = new StompSubscription(
      this,
      id,
      index,
      options.ackMode,
      prefix,
      durableName,
      this.version !== '1.2',
    );
    this.subscriptions.add(sub);
    try {
      sub.core = this.conn.subscribe(options, sub);
    } catch (e) {
      this.subscriptions.remove(sub);
      throw e;
    }
    if (this.writeBlocked) sub.core.pause();
    return sub;
  }

  closeSubscription(sub: StompSubscription): void {
    this.subscriptions.remove(sub);
    sub.core?.close();
  }

  // ---- core -> session: the MESSAGE hot path ------------------------------------------------------

  deliverMessage(sub: StompSubscription, delivery: Delivery): void {
    if (this.phase !== 'connected') return;
    if (sub.ackMode !== 'auto') sub.track(delivery);
    const bound = messageBound(
      sub,
      this.destinationOf(sub, delivery.message.address),
      this.replyToOf(delivery),
      delivery,
    );
    if (this.outBound + bound > BATCH_BYTES && this.outBound > 0) this.flushMessages();
    this.outSubs.push(sub);
    this.outDeliveries.push(delivery);
    this.outBound += bound;
    if (!inInputTurn() || this.outBound >= BATCH_BYTES) this.flushMessages();
    else if (!this.queued) {
      this.queued = true;
      flushAfterTurn(this);
    }
  }

  flushTurn(): void {
    this.flushMessages();
  }

  /** Writes the queued MESSAGE frames, contiguously, in one transport write. */
  flushMessages(): void {
    this.queued = false;
    const n = this.outSubs.length;
    if (n === 0) return;
    if (this.phase === 'closed') {
      this.dropQueuedMessages();
      return;
    }
    const buf = allocator.reserve(this.outBound);
    let o = allocator.start;
    for (let i = 0; i < n; i++) {
      const sub = this.outSubs[i]!;
      const d = this.outDeliveries[i]!;
      o = writeMessage(
        buf,
        o,
        sub,
        this.destinationOf(sub, d.message.address),
        this.replyToOf(d),
        d,
        this.version,
      );
    }
    this.dropQueuedMessages();
    this.writeBytes(allocator.commit(o));
  }

  private dropQueuedMessages(): void {
    this.outSubs.length = 0;
    this.outDeliveries.length = 0;
    this.outBound = 0;
  }

  /** The `destination` (and `ack` prefix) bytes of a MESSAGE; remembered per subscription. */
  private destinationOf(sub: StompSubscription, address: string): Uint8Array {
    if (sub.lastAddress !== address) {
      sub.lastDestinationLine = destinationLine(this.renderEscaped(address), sub.ackIndex);
      sub.lastAddress = address;
    }
    return sub.lastDestinationLine;
  }

  private replyToOf(delivery: Delivery): string | undefined {
    const r = delivery.message.replyTo;
    return r === undefined ? undefined : this.renderEscaped(r);
  }

  subscriptionEnded(sub: StompSubscription, reason: string): void {
    this.subscriptions.remove(sub);
    this.log.debug({ subscription: sub.id, reason }, 'subscription ended by the broker');
  }

  // ---- output ---------------------------------------------------------------------------------------

  writeFrame(frame: OutgoingFrame): void {
    if (this.outSubs.length > 0) this.flushMessages();
    this.writeBytes(encodeFrame(frame, this.version));
  }

  private writeBytes(bytes: Uint8Array): void {
    if (this.phase === 'closed') return;
    this.heartbeats.wrote = true;
    if (!this.transport.write(bytes) && !this.writeBlocked) this.blockOutput();
  }

  private blockOutput(): void {
    this.writeBlocked = true;
    for (const sub of this.subscriptions.values()) sub.core?.pause();
    this.transport.onDrain(() => this.unblockOutput());
    const timeout = this.settings.limits.slowConsumerTimeoutMs;
    this.slowTimer = this.settings.timers.setTimeout(() => this.slowConsumer(timeout), timeout);
  }

  private unblockOutput(): void {
    if (!this.writeBlocked || this.phase === 'closed') return;
    this.writeBlocked = false;
    this.clearSlowTimer();
    for (const sub of this.subscriptions.values()) sub.core?.resume();
  }

  private slowConsumer(timeout: number): void {
    this.slowTimer = null;
    if (this.phase === 'closed' || !this.writeBlocked) return;
    this.log.warn(
      { conn: this.connection?.id, timeoutMs: timeout },
      'slow consumer: output not drained, dropping',
    );
    const err = new BlazeError('LIMIT_EXCEEDED', `Slow consumer: output not drained within ${timeout} ms`);
    this.transport.write(encodeFrame(errorFrame(err, undefined, undefined), this.version));
    this.teardown();
    this.transport.destroy();
  }

  /** An operator closed the connection (management API): ERROR with the reason, at once, then close. */
  private evict(reason: string): void {
    if (this.phase === 'closed') return;
    this.log.info({ conn: this.connection?.id, reason }, 'connection closed by an administrator');
    this.writeFrame(errorFrame(new BlazeError('CLOSED', reason), undefined, undefined));
    this.close();
  }

  private peerSilent(silentMs: number): void {
    // Our own flow control stops reading; a client we do not read from cannot prove it is alive.
    if (this.readingPaused) {
      this.heartbeats.markRead();
      return;
    }
    this.log.debug({ silentMs }, 'heart-beat timeout');
    this.fail(new BlazeError('CLOSED', `No heart-beat from the client for ${silentMs} ms`), undefined);
  }

  // ---- CompletionSink ------------------------------------------------------------------------------

  receipt(receiptId: string): void {
    this.writeFrame({ command: 'RECEIPT', headers: { 'receipt-id': receiptId } });
  }

  error(error: unknown, outcome: Outcome): void {
    if (this.phase === 'closed') return;
    if (isExpectedError(error)) {
      this.log.debug({ err: (error as Error).message, command: outcome.command }, 'closing after ERROR');
    } else {
      this.log.error({ err: error, command: outcome.command }, 'unexpected failure; closing the connection');
    }
    this.writeFrame(errorFrame(error, outcome.command || undefined, outcome.receipt));
    this.close();
  }

  progressed(): void {
    if (!this.inflightBlocked || this.phase === 'closed') return;
    if (this.completions.pending <= this.settings.limits.maxInflight >> 1) {
      this.inflightBlocked = false;
      this.pump();
    }
  }

  // ---- closing -------------------------------------------------------------------------------------

  /** Queues an ERROR for `error` (after earlier outcomes), then closes. */
  private fail(error: unknown, frame: StompFrame | undefined): void {
    if (this.phase === 'closed') return;
    this.halted = true;
    this.completions.failed(error, frame ? outcomeOf(frame) : { receipt: undefined, command: '' });
    this.updateReading();
  }

  /** Flushes what was written, then closes. */
  close(): void {
    if (this.phase === 'closed') return;
    // MESSAGEs queued in this turn were handed over by the core (auto ack: already acked): send them.
    this.flushMessages();
    this.teardown();
    this.transport.end();
  }

  /** Releases everything the connection holds in the core; idempotent. */
  private teardown(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.halted = true;
    this.heartbeats.stop();
    this.clearSlowTimer();
    this.completions.stop();
    this.dropQueuedMessages();
    this.subscriptions.clear();
    this.transactions.clear();
    const conn = this.connection;
    this.connection = null;
    if (conn !== null) {
      try {
        // Rolls back open transactions and returns unacked deliveries (api.ts CoreConnection.close).
        conn.close();
      } catch (e) {
        this.log.error({ err: e }, 'core connection close failed');
      }
    }
  }

  private clearSlowTimer(): void {
    if (this.slowTimer !== null) this.settings.timers.clearTimeout(this.slowTimer);
    this.slowTimer = null;
  }
}

function outcomeOf(frame: StompFrame, after?: () => void): Outcome {
  return { receipt: frame.headers['receipt'], command: frame.command, after };
}

function printable(command: string): string {
  return `'${command.slice(0, 32).replace(/[^\x20-\x7e]/g, '?')}'`;
}
