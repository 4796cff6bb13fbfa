/**
 * One live native-protocol connection: the Connect handshake, request/answer correlation by request_id
 * (native.proto: the broker answers each request once, with Ok, Error or the request's reply frame),
 * heart-beats, and dispatch of unsolicited frames (Deliver, SubscriptionClosed, connection-level Error).
 * It knows nothing of failover: when the pipe goes, every open request fails with CONNECTION_LOST and
 * `onClose` tells the owner (client.ts), which decides what to resend.
 */
import { DEFAULT_MAX_FRAME_SIZE, decodeFrame, encodeFrame, FrameDecoder } from './codec/codec.js';
import { ClientCodes, ClientError } from './codec/errors.js';
import type { Connected, DecodedFrame, Delivery, Frame } from './codec/frames.js';
import type { Timers } from './timers.js';
import type { ClientTransport, TransportHandlers } from './transport/types.js';

/** Highest native protocol version this client speaks (it speaks 1 too; native.proto Connect.versions). */
export const PROTOCOL_VERSION = 2;

export interface WireOptions {
  login?: string;
  passcode?: string;
  token?: string;
  clientId?: string;
  clientName: string;
  /** Heart-beat interval asked for, ms; 0 = none. The broker's answer is what applies. */
  heartbeatMs: number;
  /** Largest frame this client accepts. */
  maxFrameSize: number;
  connectTimeout: number;
  timers: Timers;
}

export interface WireEvents {
  onDeliver(delivery: Delivery): void;
  onSubscriptionClosed(subscriptionId: number, reason: string): void;
  /** A connection-level Error (request_id 0) that does not close the connection. */
  onError(error: ClientError): void;
  /** The connection is gone (after open() resolved). */
  onClose(error: ClientError): void;
  onDrain(): void;
}

/** Where the answer to a request goes: Ok or the request's reply frame, or the failure. */
export interface AnswerHandler {
  answered(frame: DecodedFrame): void;
  failed(error: ClientError): void;
}

/** A request that encodes itself (a publish: client.ts, send-log.ts), so that it needs no promise here. */
export interface WireRequest extends AnswerHandler {
  encode(requestId: number): Uint8Array;
}

type Opener = (handlers: TransportHandlers) => Promise<ClientTransport>;

export class WireConnection {
  private transport!: ClientTransport;
  private readonly decoder: FrameDecoder;
  private readonly pending = new Map<number, AnswerHandler>();
  private nextRequestId = 1;
  private closed = false;
  private lastSent: number;
  private lastReceived: number;
  private heartbeatTimer: unknown;
  private opened = false;
  connected: Connected = {};

  private constructor(
    private readonly options: WireOptions,
    private readonly events: WireEvents,
  ) {
    this.decoder = new FrameDecoder(options.maxFrameSize || DEFAULT_MAX_FRAME_SIZE);
    this.lastSent = this.lastReceived = options.timers.now();
  }

  /** Opens the transport and completes the handshake; rejects (and closes) when either fails. */
  static async open(open: Opener, options: WireOptions, events: WireEvents): Promise<WireConnection> {
    const wire = new WireConnection(options, events);
    wire.transport = await open({
      onData: (bytes) => wire.onData(bytes),
      onClose: (error) =>
        wire.shutdown(new ClientError(ClientCodes.CONNECTION_LOST, 'connection lost', { cause: error })),
      onDrain: () => events.onDrain(),
    });
    const timers = options.timers;
    const timeout = timers.setTimeout(
      () => wire.shutdown(new ClientError(ClientCodes.TIMEOUT, 'no Connected from the broker in time')),
      options.connectTimeout,
    );
    try {
      const answer = await wire.request((request_id) => ({
        connect: {
          request_id,
          versions: [1, PROTOCOL_VERSION],
          login: options.login,
          passcode: options.passcode,
          token: options.token,
          client_id: options.clientId,
          heartbeat_ms: options.heartbeatMs,
          max_frame_size: options.maxFrameSize,
          client_name: options.clientName,
        },
      }));
      if (answer.kind !== 'connected') {
        throw new ClientError(ClientCodes.PROTOCOL, `expected Connected, got ${answer.kind}`);
      }
      wire.connected = (answer as { connected: Connected }).connected;
      const peerMax = wire.connected.max_frame_size ?? 0;
      if (peerMax > 0) wire.transport.peerMaxFrame?.(peerMax);
    } catch (e) {
      wire.shutdown(e as ClientError);
      throw e;
    } finally {
      timers.clearTimeout(timeout);
    }
    wire.opened = true;
    wire.startHeartbeats();
    return wire;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends a frame that wants an answer; resolves with Ok or the reply frame, rejects on Error. */
  request(build: (requestId: number) => Frame): Promise<DecodedFrame> {
    if (this.closed) return Promise.reject(new ClientError(ClientCodes.CONNECTION_LOST, 'connection closed'));
    const id = this.allocateRequestId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { answered: resolve, failed: reject });
      this.post(build(id));
    });
  }

  /**
   * Writes `request`'s frame; its answer (or CONNECTION_LOST, at once when the connection is closed
   * already) goes to the request itself.
   */
  submit(request: WireRequest): void {
    if (this.closed) {
      request.failed(new ClientError(ClientCodes.CONNECTION_LOST, 'connection closed'));
      return;
    }
    const id = this.allocateRequestId();
    this.pending.set(id, request);
    this.write(request.encode(id));
  }

  /** Fire and forget. Returns the transport's back-pressure signal. */
  post(frame: Frame): boolean {
    if (this.closed) return false;
    return this.write(encodeFrame(frame));
  }

  private write(bytes: Uint8Array): boolean {
    this.lastSent = this.options.timers.now();
    return this.transport.write(bytes);
  }

  private allocateRequestId(): number {
    const id = this.nextRequestId;
    // request_id 0 means "no answer"; wrap before uint32 overflows.
    this.nextRequestId = id >= 0xffffffff ? 1 : id + 1;
    return id;
  }

  /** Graceful: Disconnect, wait (bounded) for its Ok, then close the pipe. */
  async close(): Promise<void> {
    if (this.closed) return;
    const timers = this.options.timers;
    let timer: unknown;
    await Promise.race([
      this.request((request_id) => ({ disconnect: { request_id } })).catch(() => undefined),
      new Promise((r) => {
        timer = timers.setTimeout(() => r(undefined), 2000);
      }),
    ]);
    timers.clearTimeout(timer);
    this.shutdown(new ClientError(ClientCodes.CLOSED, 'connection closed by the client'));
  }

  /** Ends the connection now (idempotent); pending requests fail with `error`. */
  shutdown(error: ClientError): void {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeatTimer !== undefined) this.options.timers.clearInterval(this.heartbeatTimer);
    this.transport?.close();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.failed(error);
    if (this.opened) this.events.onClose(error);
  }

  private startHeartbeats(): void {
    const hb = this.connected.heartbeat_ms ?? 0;
    if (hb <= 0) return;
    const timers = this.options.timers;
    // native.proto Heartbeat: send when nothing else went out for the interval; a peer silent for more
    // than twice the interval is dead. Checking at half the interval keeps both within bounds.
    this.heartbeatTimer = timers.setInterval(
      () => {
        const now = timers.now();
        if (now - this.lastReceived > 2 * hb) {
          this.shutdown(
            new ClientError(ClientCodes.CONNECTION_LOST, `no frame from the broker for ${2 * hb} ms`),
          );
          return;
        }
        if (now - this.lastSent >= hb / 2) this.post({ heartbeat: {} });
      },
      Math.max(1, Math.floor(hb / 2)),
    );
  }

  private onData(bytes: Uint8Array): void {
    if (this.closed) return;
    this.lastReceived = this.options.timers.now();
    let frames: DecodedFrame[];
    try {
      frames = this.decoder.push(bytes).map(decodeFrame);
    } catch (e) {
      this.shutdown(e as ClientError);
      return;
    }
    for (const f of frames) {
      if (this.closed) return;
      this.dispatch(f);
    }
  }

  private dispatch(f: DecodedFrame): void {
    switch (f.kind) {
      case 'deliver':
        for (const d of (f as { deliver: { deliveries?: Delivery[] } }).deliver.deliveries ?? []) {
          this.events.onDeliver(d);
        }
        return;
      case 'heartbeat':
        return;
      case 'subscription_closed': {
        const s = (f as { subscription_closed: { subscription_id?: number; reason?: string } })
          .subscription_closed;
        this.events.onSubscriptionClosed(s.subscription_id ?? 0, s.reason ?? '');
        return;
      }
      case 'error': {
        const e = (f as { error: { request_id?: number; code?: string; message?: string; fatal?: boolean } })
          .error;
        const error = new ClientError(e.code || 'INTERNAL', e.message || e.code || 'broker error', {
          fatal: e.fatal ?? false,
        });
        const p = e.request_id ? this.pending.get(e.request_id) : undefined;
        if (p) {
          this.pending.delete(e.request_id!);
          p.failed(error);
        } else if (!error.fatal) this.events.onError(error);
        if (error.fatal) this.shutdown(error);
        return;
      }
      case 'ok':
        // The answer to every Send and Ack: no keyed lookup of the frame's member.
        this.answer((f as { ok: { request_id?: number } }).ok.request_id ?? 0, f);
        return;
      default: {
        if (f.kind === undefined) return; // a frame kind newer than this client: ignored (native.proto)
        this.answer((f as unknown as Record<string, { request_id?: number }>)[f.kind]?.request_id ?? 0, f);
      }
    }
  }

  private answer(id: number, f: DecodedFrame): void {
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      p.answered(f);
    }
  }
}
