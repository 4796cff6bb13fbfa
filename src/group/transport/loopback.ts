/**
 * An in-process network: every transport created from one hub reaches the others with no sockets and no
 * loss, for fast tests of the layers above. Delivery is asynchronous (a later event-loop turn, like a
 * real network, so no handler runs inside the sender's call) and FIFO across the whole hub. Payloads are
 * copied on send, as the UDP transport does. Loss, delay and partitions belong to the simulated network
 * of the protocol tests, not here.
 */
import { BlazeError } from '../../util/errors.js';
import type { GroupTransport } from './types.js';

export interface LoopbackHubOptions {
  /** maxPayload of every transport of the hub; default 1452, close to the UDP transport's on IPv4. */
  maxPayload?: number;
}

interface Delivery {
  to: LoopbackTransport;
  from: string;
  incarnation: number;
  payload: Uint8Array;
}

export class LoopbackHub {
  readonly maxPayload: number;
  private readonly members = new Map<string, LoopbackTransport>();
  private queue: Delivery[] = [];
  private scheduled = false;
  private nextPort = 1;

  constructor(options: LoopbackHubOptions = {}) {
    this.maxPayload = options.maxPayload ?? 1452;
  }

  /**
   * A new endpoint; the default address is unique within the hub (`127.0.0.1:1`, `127.0.0.1:2`, ...).
   * Reusing the address of a closed endpoint with a higher `incarnation` models a process restart.
   */
  createTransport(address?: string, incarnation = 1): LoopbackTransport {
    const addr = address ?? `127.0.0.1:${this.nextPort++}`;
    if (this.members.has(addr)) throw new BlazeError('CONFLICT', `loopback address in use: ${addr}`);
    const t = new LoopbackTransport(this, addr, incarnation);
    this.members.set(addr, t);
    return t;
  }

  get addresses(): string[] {
    return [...this.members.keys()];
  }

  /** @internal */
  post(from: LoopbackTransport, to: string | undefined, payload: Uint8Array): void {
    if (payload.length > this.maxPayload) {
      throw new BlazeError('LIMIT_EXCEEDED', `payload of ${payload.length} bytes exceeds ${this.maxPayload}`);
    }
    const copy = payload.slice();
    if (to === undefined) {
      for (const m of this.members.values()) {
        if (m !== from)
          this.queue.push({ to: m, from: from.localAddress, incarnation: from.incarnation, payload: copy });
      }
    } else {
      const m = this.members.get(to);
      if (m)
        this.queue.push({ to: m, from: from.localAddress, incarnation: from.incarnation, payload: copy });
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.drain);
    }
  }

  /** @internal */
  remove(t: LoopbackTransport): void {
    if (this.members.get(t.localAddress) === t) this.members.delete(t.localAddress);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    // Deliveries posted by handlers during this drain wait for the next turn, so ping-pong protocols
    // cannot starve timers and I/O.
    const batch = this.queue;
    this.queue = [];
    let failure: unknown;
    for (const d of batch) {
      try {
        d.to.deliver(d.from, d.payload, d.incarnation);
      } catch (err) {
        failure ??= err;
      }
    }
    // A throwing handler is a bug in the code under test: finish the batch, then let it surface.
    if (failure !== undefined) throw failure;
  };
}

export class LoopbackTransport implements GroupTransport {
  readonly maxPayload: number;
  private handler: ((from: string, payload: Uint8Array, incarnation: number) => void) | undefined;
  private closed = false;

  constructor(
    private readonly hub: LoopbackHub,
    readonly localAddress: string,
    readonly incarnation: number,
  ) {
    this.maxPayload = hub.maxPayload;
  }

  readonly queuedBytes = 0;

  multicast(payload: Uint8Array): void {
    this.checkOpen();
    this.hub.post(this, undefined, payload);
  }

  unicast(to: string, payload: Uint8Array): void {
    this.checkOpen();
    this.hub.post(this, to, payload);
  }

  onMessage(handler: (from: string, payload: Uint8Array, incarnation: number) => void): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.hub.remove(this);
  }

  /** @internal */
  deliver(from: string, payload: Uint8Array, incarnation: number): void {
    if (this.closed || !this.handler) return;
    this.handler(from, payload, incarnation);
  }

  private checkOpen(): void {
    if (this.closed) throw new BlazeError('CLOSED', 'loopback transport is closed');
  }
}
