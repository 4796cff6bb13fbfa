/**
 * A deterministic, seeded simulated network for the group protocols: N endpoints that each implement
 * `GroupTransport`, connected by links with loss, delay, jitter, reordering and duplication, plus
 * partitions and crashed (silenced) members. The kernel on the build machines has no netem, so delay,
 * reordering and duplication are only testable here (issue 7, "How it is shown").
 *
 * Everything runs on one `SimClock`; `run`/`runUntil` drive it synchronously (protocol-level tests),
 * `runAsync`/`runUntilAsync` also let promise continuations run between events (channel-level tests).
 */
import { type Random, seededRandom } from '../clock.js';
import type { GroupTransport } from '../transport/types.js';
import { SimClock } from './sim-clock.js';

export interface LinkConditions {
  /** Probability that one datagram on the link is dropped. */
  loss?: number;
  /** Base one-way delay, ms. */
  delay?: number;
  /** Extra uniform delay in [0, jitter) ms, drawn per datagram: datagrams sent close together reorder. */
  jitter?: number;
  /** Probability that a datagram is delivered twice (the copy gets its own delay). */
  duplicate?: number;
  /** Probability that a datagram is held back by `reorderDelay` ms more, so later ones overtake it. */
  reorder?: number;
  reorderDelay?: number;
}

export interface SimNetworkOptions {
  seed: number;
  /** Conditions of every link not configured with `setLink`. */
  link?: LinkConditions;
  maxPayload?: number;
  /** Deliver a member's multicasts to itself too, as IP multicast does by default. Off unless set. */
  multicastLoopback?: boolean;
}

export interface SimStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

const DEFAULT_LINK: Required<LinkConditions> = {
  loss: 0,
  delay: 1,
  jitter: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelay: 5,
};

export class SimNetwork {
  readonly clock = new SimClock();
  readonly stats: SimStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  /** The network's own random stream; protocols get theirs from `randomFor` so that they don't perturb it. */
  private readonly rng: Random;
  private readonly seed: number;
  private readonly endpoints = new Map<string, SimTransport>();
  private readonly links = new Map<string, Required<LinkConditions>>();
  private readonly egressLoss = new Map<string, number>();
  private defaults: Required<LinkConditions>;
  private groups: Map<string, number> | undefined;
  private readonly crashed = new Set<string>();
  readonly maxPayload: number;
  private readonly loopback: boolean;
  /** Counts every datagram by sender; tests use `onSend` to classify frames (e.g. count NACKs). */
  onSend: ((from: string, to: string | '*', payload: Uint8Array) => void) | undefined;

  constructor(opts: SimNetworkOptions) {
    this.seed = opts.seed;
    this.rng = seededRandom(opts.seed);
    this.defaults = { ...DEFAULT_LINK, ...opts.link };
    this.maxPayload = opts.maxPayload ?? 1400;
    this.loopback = opts.multicastLoopback ?? false;
  }

  /** A reproducible random stream for a protocol instance, derived from the network seed and a name. */
  randomFor(name: string): Random {
    let h = this.seed ^ 0x9e3779b9;
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    return seededRandom(h);
  }

  /**
   * A new endpoint. An address is free again once its endpoint is closed: opening it again with a higher
   * `incarnation` models a process restarted on the same address (src/group/incarnation.ts).
   */
  endpoint(address: string, incarnation = 1): SimTransport {
    if (this.endpoints.has(address)) throw new Error(`address ${address} already in use`);
    const ep = new SimTransport(this, address, incarnation);
    this.endpoints.set(address, ep);
    this.crashed.delete(address);
    return ep;
  }

  /** Conditions for datagrams from `from` to `to`; either may be '*'. The most specific setting wins. */
  setLink(from: string, to: string, cond: LinkConditions): void {
    this.links.set(`${from}>${to}`, { ...this.defaults, ...cond });
  }

  setDefaultLink(cond: LinkConditions): void {
    this.defaults = { ...this.defaults, ...cond };
  }

  /**
   * Loss at the sender, before a multicast fans out: every receiver misses the same datagram. This is
   * the case NACK suppression is for (many receivers missing the same message ask once).
   */
  setEgressLoss(address: string, loss: number): void {
    this.egressLoss.set(address, loss);
  }

  /** Members in different groups cannot talk; an address in no group can talk to nobody. */
  partition(...groups: string[][]): void {
    this.groups = new Map();
    groups.forEach((g, i) => {
      for (const a of g) this.groups!.set(a, i);
    });
  }

  heal(): void {
    this.groups = undefined;
  }

  /** Silences a member: nothing it sends leaves, nothing reaches it. Its timers still run (a hung process). */
  crash(address: string): void {
    this.crashed.add(address);
  }

  revive(address: string): void {
    this.crashed.delete(address);
  }

  /** Runs events for `ms` of virtual time. Returns the number of events processed. */
  run(ms: number): number {
    const end = this.clock.now() + ms;
    let n = 0;
    while (this.clock.step(end)) n++;
    this.clock.advanceTo(end);
    return n;
  }

  /** Runs until `done()` holds (checked after each event) or `maxMs` passes. Returns whether it held. */
  runUntil(done: () => boolean, maxMs: number): boolean {
    const end = this.clock.now() + maxMs;
    if (done()) return true;
    while (this.clock.step(end)) if (done()) return true;
    this.clock.advanceTo(end);
    return done();
  }

  /** Like `run`, but lets promise continuations (async iterators, awaited sends) run between events. */
  async runAsync(ms: number): Promise<void> {
    await this.runUntilAsync(() => false, ms);
  }

  async runUntilAsync(done: () => boolean, maxMs: number): Promise<boolean> {
    const end = this.clock.now() + maxMs;
    await flush();
    while (!done()) {
      // Events sharing one instant run back to back; promise continuations run before time moves on.
      const at = this.clock.peek();
      if (at === undefined || at > end) {
        this.clock.advanceTo(end);
        await flush();
        return done();
      }
      let n = 0;
      while (n < 256 && this.clock.peek() === at && this.clock.step(end)) n++;
      await flush();
    }
    return true;
  }

  /** @internal */
  send(from: string, to: string | '*', payload: Uint8Array, incarnation = 1): void {
    if (payload.length > this.maxPayload) {
      throw new Error(`payload of ${payload.length} bytes exceeds maxPayload ${this.maxPayload}`);
    }
    this.onSend?.(from, to, payload);
    if (this.crashed.has(from)) return;
    const egress = this.egressLoss.get(from);
    const copy = payload.slice();
    if (to === '*') {
      this.stats.sent++;
      if (egress !== undefined && this.rng() < egress) {
        this.stats.dropped++;
        return;
      }
      for (const addr of this.endpoints.keys()) {
        if (addr === from && !this.loopback) continue;
        this.transmit(from, addr, copy, incarnation);
      }
    } else {
      this.stats.sent++;
      if (egress !== undefined && this.rng() < egress) {
        this.stats.dropped++;
        return;
      }
      this.transmit(from, to, copy, incarnation);
    }
  }

  /** @internal */
  detach(address: string, ep: SimTransport): void {
    if (this.endpoints.get(address) === ep) this.endpoints.delete(address);
  }

  private transmit(from: string, to: string, payload: Uint8Array, incarnation: number): void {
    const link =
      this.links.get(`${from}>${to}`) ??
      this.links.get(`${from}>*`) ??
      this.links.get(`*>${to}`) ??
      this.defaults;
    if (link.loss > 0 && this.rng() < link.loss) {
      this.stats.dropped++;
      return;
    }
    const copies = link.duplicate > 0 && this.rng() < link.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let delay = link.delay + (link.jitter > 0 ? this.rng() * link.jitter : 0);
      if (link.reorder > 0 && this.rng() < link.reorder) delay += link.reorderDelay;
      this.clock.schedule(delay, () => this.arrive(from, to, payload, incarnation));
    }
  }

  private arrive(from: string, to: string, payload: Uint8Array, incarnation: number): void {
    // Reachability is decided on arrival, so a partition also cuts datagrams already in flight.
    if (this.crashed.has(to) || this.crashed.has(from)) {
      this.stats.dropped++;
      return;
    }
    if (this.groups) {
      const a = this.groups.get(from);
      const b = this.groups.get(to);
      if (a === undefined || b === undefined || a !== b) {
        this.stats.dropped++;
        return;
      }
    }
    const ep = this.endpoints.get(to);
    if (!ep) return;
    this.stats.delivered++;
    ep.deliver(from, payload, incarnation);
  }
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class SimTransport implements GroupTransport {
  private handler: ((from: string, payload: Uint8Array, incarnation: number) => void) | undefined;
  private closed = false;

  constructor(
    private readonly net: SimNetwork,
    readonly localAddress: string,
    readonly incarnation: number,
  ) {}

  get maxPayload(): number {
    return this.net.maxPayload;
  }

  multicast(payload: Uint8Array): void {
    if (!this.closed) this.net.send(this.localAddress, '*', payload, this.incarnation);
  }

  unicast(to: string, payload: Uint8Array): void {
    if (!this.closed) this.net.send(this.localAddress, to, payload, this.incarnation);
  }

  onMessage(handler: (from: string, payload: Uint8Array, incarnation: number) => void): void {
    this.handler = handler;
  }

  /** @internal */
  deliver(from: string, payload: Uint8Array, incarnation: number): void {
    if (!this.closed) this.handler?.(from, payload, incarnation);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.net.detach(this.localAddress, this);
  }
}
