/**
 * One native-protocol connection (native.proto): frames in from the transport, one core call per frame,
 * frames out.
 *
 * Phases: awaiting-connect -> connecting (authenticating; reading paused) -> connected -> closed.
 * Request failures are answered with a non-fatal Error (the connection stays up); wire-format
 * violations, a first frame that is not Connect, a refused login, a silent peer and a slow consumer are
 * fatal: Error{fatal: true}, then close.
 *
 * Output: every delivery of one input turn (util/input-turn.ts) goes into one Deliver frame per session;
 * deliveries made outside an input turn (store completions, timers, drain) are batched until the end of
 * the current microtask burst. Replies keep request order (replies.ts).
 *
 * Back-pressure, both edges:
 *  - output: `transport.write` returning false pauses every core subscription until the transport
 *    drains; a client that does not drain within `slowConsumerTimeoutMs` is dropped;
 *  - input: frames are read only while fewer than `maxInflight` requests await the core or the store.
 */
import type { CoreConnection, Delivery, Principal, Subscription } from '../../core/api.js';
import { ACCEPTED } from '../../core/store-writer.js';
import type { ProtocolSession, Transport } from '../../net/transport.js';
import { BlazeError, isBlazeError } from '../../util/errors.js';
import {
  enterInput,
  flushAfterTurn,
  inInputTurn,
  leaveInput,
  type TurnOutput,
} from '../../util/input-turn.js';
import type { Logger } from '../../util/logger.js';
import {
  type ClientFrame,
  type Connect,
  DeliverBuilder,
  decodeFrame,
  encodeError,
  encodeFrame,
  encodeOk,
  FrameReader,
  HEARTBEAT_FRAME,
} from './codec/index.js';
import type { ResolvedNativeContext } from './context.js';
import { handlerFor } from './handlers/index.js';
import { WireCodeError } from './handlers/transaction.js';
import type { ProducerRegistry } from './producers.js';
import { OrderedReplies, type ReplySink } from './replies.js';
import type { NativeSubscription, SubscriptionOwner } from './subscription.js';

type Phase = 'awaiting-connect' | 'connecting' | 'connected' | 'closed';

/** Highest protocol version this broker speaks (native.proto Connect.versions); it speaks 1 too. */
export const PROTOCOL_VERSION = 2;
export const MIN_PROTOCOL_VERSION = 1;

/**
 * The highest version both speak; no versions listed = version 1 (native.proto Connect.versions).
 * Undefined when there is none.
 */
export function negotiateVersion(offered: readonly number[]): number | undefined {
  if (offered.length === 0) return MIN_PROTOCOL_VERSION;
  let best: number | undefined;
  for (const v of offered) {
    if (v >= MIN_PROTOCOL_VERSION && v <= PROTOCOL_VERSION && (best === undefined || v > best)) best = v;
  }
  return best;
}

let sessionSerial = 0;

export class NativeSession implements ProtocolSession, SubscriptionOwner, ReplySink, TurnOutput {
  readonly subscriptions = new Map<number, NativeSubscription>();
  /** Local transaction ids begun on this connection and not finished. */
  readonly transactions = new Set<string>();
  temporaries = 0;
  /** Unique among the sessions of the process: names this session's local transactions in `producers`. */
  readonly serial = ++sessionSerial;
  /** txId -> xidKey of the XA branches bound on this connection (XaStart until XaEnd). */
  readonly xaBound = new Map<string, string>();
  /** xidKeys of the branches this connection worked in (the core rolls back unprepared ones at close). */
  readonly xaWorked = new Set<string>();
  readonly replies: OrderedReplies;
  readonly log: Logger;

  private phase: Phase = 'awaiting-connect';
  private connection: CoreConnection | null = null;
  private readonly reader: FrameReader;
  private readonly deliveries = new DeliverBuilder();
  private deliverQueued = false;
  private microtaskQueued = false;
  private halted = false;
  private pumping = false;
  private inflightBlocked = false;
  private readingPaused = false;
  private writeBlocked = false;
  private slowTimer: unknown = null;
  private heartbeatTimer: unknown = null;
  private heartbeatMs = 0;
  private lastRead = 0;
  private wrote = false;
  /** Largest frame the client accepts (Connect.max_frame_size), bounding our Deliver frames. */
  private clientMaxFrame = 0;
  /** Negotiated in Connect (negotiateVersion). */
  private version = MIN_PROTOCOL_VERSION;
  private readonly flushMicrotask = () => {
    this.microtaskQueued = false;
    this.flushDeliveries();
  };

  constructor(
    private readonly transport: Transport,
    readonly settings: ResolvedNativeContext,
    readonly producers: ProducerRegistry,
  ) {
    this.log = settings.logger.child({ protocol: 'native', remote: transport.remoteAddress });
    this.reader = new FrameReader(settings.limits.maxFrameSize);
    this.replies = new OrderedReplies(this);
  }

  /** The core connection; handlers run only once it exists. */
  get conn(): CoreConnection {
    if (this.connection === null) throw new BlazeError('CLOSED', 'not connected');
    return this.connection;
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  // ---- transport -> session ------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    if (this.heartbeatMs > 0) this.lastRead = this.settings.timers.now();
    this.reader.push(chunk);
    enterInput();
    try {
      this.pump();
    } catch (e) {
      // Only a bug gets here (handler errors are caught per frame): drop this connection, not the process.
      this.log.error({ err: e }, 'native session failed');
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

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (
        !this.halted &&
        !this.inflightBlocked &&
        (this.phase === 'awaiting-connect' || this.phase === 'connected')
      ) {
        let frame: ClientFrame;
        try {
          const bytes = this.reader.next();
          if (bytes === null) break;
          frame = decodeFrame(bytes);
        } catch (e) {
          this.fatal(e);
          break;
        }
        this.dispatch(frame);
      }
    } finally {
      this.pumping = false;
    }
    this.updateReading();
  }

  private dispatch(frame: ClientFrame): void {
    const requestId = requestIdOf(frame);
    try {
      if (this.phase === 'awaiting-connect') {
        if (frame.kind !== 'connect') {
          throw new BlazeError('PROTOCOL', `the first frame must be Connect, got ${frame.kind}`);
        }
        this.beginConnect(frame.value);
        return;
      }
      if (frame.kind === 'connect') throw new BlazeError('PROTOCOL', 'already connected');
      if (frame.kind === 'heartbeat') return;
      handlerFor(frame.kind)(this, frame.value as never);
    } catch (e) {
      if (this.phase !== 'connected' || isFatal(e)) this.fatal(e, requestId);
      else this.replies.fail(requestId, e);
    }
  }

  private updateReading(): void {
    const pause = this.phase === 'connecting' || this.halted || this.inflightBlocked;
    if (pause === this.readingPaused || this.phase === 'closed') return;
    this.readingPaused = pause;
    if (pause) this.transport.pauseReading();
    else this.transport.resumeReading();
  }

  // ---- Connect -------------------------------------------------------------------------------------

  private beginConnect(c: Connect): void {
    const version = negotiateVersion(c.versions);
    if (version === undefined) {
      throw new BlazeError(
        'NOT_SUPPORTED',
        `no common protocol version: client speaks ${c.versions.join(',')}, broker speaks ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}`,
      );
    }
    this.version = version;
    this.phase = 'connecting';
    const auth = this.authenticate(c);
    auth.then(
      (principal) => this.finishConnect(c, principal),
      (e: unknown) => {
        if (this.phase === 'connecting') this.fatal(e, c.request_id);
      },
    );
  }

  private authenticate(c: Connect): Promise<Principal | null> {
    if (c.token !== '') {
      const check = this.settings.authenticateToken;
      if (check === undefined) {
        return Promise.reject(new BlazeError('UNAUTHENTICATED', 'bearer tokens are not supported'));
      }
      return check(c.token);
    }
    return this.settings.authenticator.authenticate(c.login || undefined, c.passcode || undefined);
  }

  private finishConnect(c: Connect, principal: Principal | null): void {
    if (this.phase !== 'connecting') return;
    if (principal === null) {
      this.fatal(new BlazeError('UNAUTHENTICATED', 'authentication failed'), c.request_id);
      return;
    }
    let conn: CoreConnection;
    try {
      conn = this.settings.core.connect({
        principal,
        clientId: c.client_id || undefined,
        protocol: 'native',
        remoteAddress: this.transport.remoteAddress,
      });
    } catch (e) {
      this.fatal(e, c.request_id);
      return;
    }
    this.connection = conn;
    this.phase = 'connected';
    const limits = this.settings.limits;
    this.clientMaxFrame = c.max_frame_size;
    this.heartbeatMs =
      c.heartbeat_ms === 0
        ? 0
        : Math.min(limits.maxHeartbeatMs, Math.max(limits.minHeartbeatMs, c.heartbeat_ms));
    this.writeFrame(
      encodeFrame('connected', {
        request_id: c.request_id,
        version: this.version,
        server: this.settings.serverName,
        connection_id: conn.id,
        heartbeat_ms: this.heartbeatMs,
        max_frame_size: limits.maxFrameSize,
        store_id: this.settings.storeId,
      }),
    );
    if (this.heartbeatMs > 0) this.startHeartbeats();
    this.log.debug({ conn: conn.id, user: principal.user, client: c.client_name }, 'connected');
    enterInput();
    try {
      this.pump();
    } finally {
      leaveInput();
    }
  }

  // ---- helpers for handlers -----------------------------------------------------------------------

  /** The open subscription `id`; NOT_FOUND otherwise. */
  subscription(id: number): NativeSubscription {
    const sub = this.subscriptions.get(id);
    if (sub === undefined) throw new BlazeError('NOT_FOUND', `no subscription ${id} on this connection`);
    return sub;
  }

  /**
   * The key duplicate detection knows a transaction by (producers.ts): local ones per session, XA
   * branches by xid, because a branch can be committed from any connection. Undefined: no such
   * transaction here (the core refuses the request).
   */
  txKeyOf(txId: string): string | undefined {
    if (this.transactions.has(txId)) return localTxKey(this.serial, txId);
    const xa = this.xaBound.get(txId);
    return xa === undefined ? undefined : xaTxKey(xa);
  }

  /** The request succeeded now: Ok, in request order. */
  ok(requestId: number): void {
    this.replies.track(requestId, ACCEPTED);
  }

  /** Answers `requestId` when `promise` settles, in request order; counts against maxInflight. */
  track(requestId: number, promise: Promise<unknown>, reply?: () => Uint8Array): void {
    this.replies.track(requestId, promise, reply);
    if (this.replies.pending >= this.settings.limits.maxInflight) this.inflightBlocked = true;
  }

  /** Disconnect: nothing more is read; Ok after every earlier answer, then a graceful close. */
  disconnect(requestId: number): void {
    this.halted = true;
    this.replies.track(requestId, ACCEPTED, undefined, () => this.close());
  }

  /**
   * Opens the core subscription, answers Subscribed, then starts deliveries. What the core hands over
   * before Subscribed is on the wire (a queue's backlog from inside `subscribe`, or anything routed while
   * an earlier request's answer holds Subscribed back, native.proto "Requests and replies") is held, so a
   * client always sees Subscribed before the subscription's first Deliver.
   */
  openSubscription(
    sub: NativeSubscription,
    requestId: number,
    open: (sink: NativeSubscription) => Subscription,
  ): void {
    this.subscriptions.set(sub.id, sub);
    sub.opening = true;
    try {
      sub.core = open(sub);
    } catch (e) {
      this.subscriptions.delete(sub.id);
      sub.opening = false;
      throw e;
    }
    this.replies.track(
      requestId,
      ACCEPTED,
      () => encodeFrame('subscribed', { request_id: requestId, subscription_id: sub.id }),
      // Runs once Subscribed is written (or, for request_id 0, once it would have been).
      () => {
        sub.opening = false;
        if (this.subscriptions.get(sub.id) === sub) this.grantCredit(sub, 0);
      },
    );
  }

  closeSubscription(sub: NativeSubscription): void {
    this.subscriptions.delete(sub.id);
    sub.held.length = 0;
    sub.core?.close();
  }

  /** Credit granted: held deliveries go first, then the core subscription runs again. */
  grantCredit(sub: NativeSubscription, credit: number): void {
    // Sums are capped so that a client granting 2^32-1 repeatedly stays within safe integers.
    sub.credit = Math.min(sub.credit + credit, 0x7fffffff);
    while (!sub.opening && sub.held.length > 0 && sub.credit > 0) {
      sub.credit--;
      this.queueDelivery(sub, sub.held.shift()!);
    }
    this.updateFlow(sub);
  }

  private updateFlow(sub: NativeSubscription): void {
    // While opening, the core may run until it has filled the credit with held deliveries.
    const room = sub.opening ? sub.held.length < sub.credit : sub.credit > 0 && sub.held.length === 0;
    sub.setFlow(!this.writeBlocked && room);
  }

  // ---- core -> session: the Deliver hot path ------------------------------------------------------

  delivered(sub: NativeSubscription, core: Subscription, delivery: Delivery): void {
    if (this.phase !== 'connected' || this.subscriptions.get(sub.id) !== sub) return;
    if (sub.opening || sub.credit <= 0) {
      sub.held.push(delivery);
      if (sub.held.length >= sub.credit) sub.setFlow(false, core);
      return;
    }
    if (--sub.credit === 0) sub.setFlow(false, core);
    this.queueDelivery(sub, delivery);
  }

  private queueDelivery(sub: NativeSubscription, d: Delivery): void {
    const size = this.deliveries.add(sub.id, d.tag, d.message, d.redelivered, d.deliveryCount);
    const limit = this.settings.limits.deliverBatchBytes;
    const clientLimit = this.clientMaxFrame > 0 ? this.clientMaxFrame + 4 : limit;
    if (size >= limit || size >= clientLimit) {
      this.flushDeliveries();
      return;
    }
    if (inInputTurn()) {
      if (!this.deliverQueued) {
        this.deliverQueued = true;
        flushAfterTurn(this);
      }
    } else if (!this.microtaskQueued) {
      this.microtaskQueued = true;
      queueMicrotask(this.flushMicrotask);
    }
  }

  flushTurn(): void {
    this.deliverQueued = false;
    this.flushDeliveries();
  }

  private flushDeliveries(): void {
    if (this.deliveries.count === 0) return;
    if (this.phase === 'closed') {
      this.deliveries.clear();
      return;
    }
    this.writeBytes(this.deliveries.finish());
  }

  ended(sub: NativeSubscription, reason: string): void {
    if (this.subscriptions.get(sub.id) !== sub) return;
    this.subscriptions.delete(sub.id);
    this.writeFrame(encodeFrame('subscription_closed', { subscription_id: sub.id, reason }));
  }

  // ---- output ---------------------------------------------------------------------------------------

  /** A frame other than Deliver: deliveries queued so far go out first, keeping the order. */
  writeFrame(bytes: Uint8Array): void {
    this.flushDeliveries();
    this.writeBytes(bytes);
  }

  private writeBytes(bytes: Uint8Array): void {
    if (this.phase === 'closed') return;
    this.wrote = true;
    if (!this.transport.write(bytes) && !this.writeBlocked) this.blockOutput();
  }

  private blockOutput(): void {
    this.writeBlocked = true;
    for (const sub of this.subscriptions.values()) this.updateFlow(sub);
    this.transport.onDrain(() => this.unblockOutput());
    const timeout = this.settings.limits.slowConsumerTimeoutMs;
    this.slowTimer = this.settings.timers.setTimeout(() => this.slowConsumer(timeout), timeout);
  }

  private unblockOutput(): void {
    if (!this.writeBlocked || this.phase === 'closed') return;
    this.writeBlocked = false;
    this.clearSlowTimer();
    for (const sub of this.subscriptions.values()) this.updateFlow(sub);
  }

  private slowConsumer(timeout: number): void {
    this.slowTimer = null;
    if (this.phase === 'closed' || !this.writeBlocked) return;
    this.log.warn({ conn: this.connection?.id, timeoutMs: timeout }, 'slow consumer: output not drained');
    this.transport.write(
      encodeError({
        request_id: 0,
        code: 'LIMIT_EXCEEDED',
        message: `slow consumer: output not drained within ${timeout} ms`,
        fatal: true,
      }),
    );
    this.teardown();
    this.transport.destroy();
  }

  private startHeartbeats(): void {
    const every = this.heartbeatMs;
    const timers = this.settings.timers;
    this.lastRead = timers.now();
    this.wrote = false;
    this.heartbeatTimer = timers.setInterval(() => {
      if (this.phase === 'closed') return;
      if (!this.wrote) this.writeBytes(HEARTBEAT_FRAME);
      this.wrote = false;
      // Our own flow control stops reading; a client we do not read from cannot prove it is alive.
      if (this.readingPaused) this.lastRead = timers.now();
      const silent = timers.now() - this.lastRead;
      if (silent > 2 * every) {
        this.fatal(new BlazeError('CLOSED', `no frame from the client for ${silent} ms`));
      }
    }, every);
  }

  // ---- ReplySink -----------------------------------------------------------------------------------

  answered(requestId: number, reply: (() => Uint8Array) | undefined): void {
    if (reply === undefined) {
      // Oks need no ordering against deliveries (different streams of the client): no flush first.
      this.writeBytes(encodeOk(requestId));
    } else this.writeFrame(reply());
  }

  failed(requestId: number, error: unknown): void {
    if (this.phase === 'closed') return;
    if (!isBlazeError(error) && !(error instanceof WireCodeError))
      this.log.error({ err: error, requestId }, 'request failed unexpectedly');
    this.writeFrame(encodeError({ ...errorInfo(error), request_id: requestId, fatal: false }));
  }

  progressed(): void {
    if (!this.inflightBlocked || this.phase === 'closed') return;
    if (this.replies.pending <= this.settings.limits.maxInflight >> 1) {
      this.inflightBlocked = false;
      enterInput();
      try {
        this.pump();
      } finally {
        leaveInput();
      }
    }
  }

  // ---- closing -------------------------------------------------------------------------------------

  /** Error{fatal}, then close. Later frames are not read; earlier answers still pending are dropped. */
  fatal(error: unknown, requestId = 0): void {
    if (this.phase === 'closed') return;
    if (isBlazeError(error)) this.log.debug({ err: error.message, code: error.code }, 'closing after Error');
    else this.log.error({ err: error }, 'unexpected failure; closing the connection');
    this.halted = true;
    this.writeFrame(encodeError({ ...errorInfo(error), request_id: requestId, fatal: true }));
    this.close();
  }

  /** Flushes what was written, then closes. */
  close(): void {
    if (this.phase === 'closed') return;
    this.flushDeliveries();
    this.teardown();
    this.transport.end();
  }

  /** Releases everything the connection holds in the core; idempotent. */
  private teardown(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.halted = true;
    this.reader.clear();
    this.deliveries.clear();
    this.replies.stop();
    this.clearSlowTimer();
    if (this.heartbeatTimer !== null) this.settings.timers.clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.subscriptions.clear();
    // The core rolls these back below: what they held for duplicate detection is released.
    for (const txId of this.transactions) this.producers.abortTransaction(localTxKey(this.serial, txId));
    this.transactions.clear();
    this.producers.xa.sessionClosed(this.serial, this.xaWorked);
    for (const key of this.xaWorked) {
      if (this.producers.isPrepared(xaTxKey(key))) continue;
      this.producers.abortTransaction(xaTxKey(key));
      this.producers.xa.forget(key);
    }
    this.xaWorked.clear();
    this.xaBound.clear();
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

export function localTxKey(serial: number, txId: string): string {
  return `local:${serial}:${txId}`;
}

export function xaTxKey(xidKey: string): string {
  return `xa:${xidKey}`;
}

function requestIdOf(frame: ClientFrame): number {
  const v = frame.value as { request_id?: number };
  return typeof v.request_id === 'number' ? v.request_id : 0;
}

/** Wire-format violations end the connection; everything else fails only its request. */
function isFatal(e: unknown): boolean {
  return !isBlazeError(e) || e.code === 'PROTOCOL';
}

function errorInfo(error: unknown): { code: string; message: string } {
  if (isBlazeError(error)) return { code: error.code, message: error.message };
  const wire = error as { wireCode?: unknown; message?: unknown };
  if (typeof wire.wireCode === 'string') return { code: wire.wireCode, message: String(wire.message) };
  return { code: 'INTERNAL', message: 'internal error' };
}
