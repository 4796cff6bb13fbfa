/**
 * NACK-based reliable multicast (the approach of JGroups NAKACK2 and SRM), the first reliability protocol
 * behind `ReliableProtocol`:
 *
 * - Each member numbers its multicasts 1, 2, 3... Receivers deliver each sender's messages in seq order
 *   (per-sender FIFO), exactly once: duplicates and already-delivered seqs are dropped.
 * - A receiver that sees a gap (a higher seq arrives, the sender's idle heartbeat names a higher seq, or
 *   another member's digest shows it has more) multicasts a NACK after a random back-off that scales with
 *   the measured round trip to the sender and the size of the view (SRM's adaptive timers, ./timing.ts).
 *   Any receiver that hears a NACK for seqs it misses too holds its own request for a retry interval:
 *   many receivers missing the same message ask about once (suppression). Unanswered requests are
 *   repeated after the retransmission timeout (measured, RFC 6298-style), doubling per try.
 * - The sender answers a NACK by sending the message again: unicast to the member that asked, which
 *   travels on the member socket, past the backlog of multicast data that a busy receiver has queued
 *   (the repair that ends a gap is what every message behind the gap waits for); by multicast as well
 *   when a second member asks for the same seq, and for the first request in views large enough for
 *   shared losses to matter, for those that overheard the NACK and held their own (suppression). At most
 *   once per `xmitSuppress` ms per seq.
 *   When the sender has departed (or during a flush), any member holding the message answers after a
 *   random back-off, cancelled if it hears someone else's retransmission first.
 * - Every member multicasts a digest of what it delivered per sender. The minimum over the view is stable:
 *   freed from all buffers. A sender may be at most `window` messages (and `windowBytes` bytes) ahead of
 *   its stable point, so a slow or paused member holds the senders back (flow control) and buffers stay
 *   bounded.
 * - An idle sender with unstable messages multicasts its highest seq with back-off: a lost tail is found.
 * - Point-to-point messages use ReliableUnicast (per-pair seq, ack, retransmit).
 *
 * View changes (flush) are described in ../types.ts. Every data frame carries the counter of the view it
 * was sent in; a receiver delivers it only once it has installed that view, so no member delivers a
 * message of view V+1 while still in V.
 */
import { BlazeError } from '../../../util/errors.js';
import type { View } from '../../view.js';
import type { FrameBodies, FrameKind, McastData, McastNack, StabilityDigest } from '../../wire.js';
import type { Delivery, Digest, ProtocolContext, ReliableProtocol } from '../types.js';
import { ReliableUnicast } from '../unicast.js';
import { Waiters } from '../waiters.js';
import { type NackOptions, nackOptions } from './options.js';
import { PayloadRing } from './payload-ring.js';
import { ReceiveWindow, type Stored } from './receive-window.js';
import { firstNackDelay, nackSpread, retryInterval } from './timing.js';

/** Bytes a data frame adds around the payload: group name, seq, view, retransmit sender (generous). */
const FRAME_OVERHEAD = 96;
/** Digest entries per stability frame: 24 x (address up to ~40 B + seq) stays under ~1.4 KB. */
const DIGEST_ENTRIES_PER_FRAME = 24;
const OWN_KINDS = new Set<FrameKind>(['data', 'nack', 'seq_heartbeat', 'stability', 'ucast', 'ucast_ack']);
/** `xmitTo` value of a repair that went to the whole group. */
const MULTICAST = '';

export type NackStats = {
  sent: number;
  delivered: number;
  received: number;
  duplicates: number;
  dropped: number;
  nacksSent: number;
  nacksSuppressed: number;
  retransmitted: number;
  retransmittedForOthers: number;
  digestsSent: number;
  windowFull: number;
  /** Time (ms) multicasts were refused for a full window, from the first refusal to the next accept. */
  windowFullMs: number;
  /** Own messages held for retransmission (not yet stable). */
  unstable: number;
  unstableBytes: number;
  /** Messages of other senders held (undelivered or not yet stable). */
  buffered: number;
  /** Smoothed NACK-to-repair round trip, ms, averaged over the senders with a sample (0: none yet). */
  rttMs: number;
};

interface Flush {
  view: View;
  cut: Digest;
  done: () => void;
}

export class NackProtocol implements ReliableProtocol {
  readonly name = 'nack';
  readonly maxPayload: number;
  private readonly opts: NackOptions;
  private readonly self: string;
  private view: View;
  private members = new Set<string>();
  private seq = 0;
  private stableSelf = 0;
  /** Own messages not yet stable, as bytes (see PayloadRing: no heap object per message in flight). */
  private readonly sent = new PayloadRing(1);
  private readonly lastXmit = new Map<number, number>();
  /** seq -> the member its last repair was unicast to, or MULTICAST once several members asked. */
  private readonly xmitTo = new Map<number, string>();
  private readonly recv = new Map<string, ReceiveWindow>();
  /** Windows of departed senders, kept `retainDeparted` ms to answer late NACKs of the last flush. */
  private readonly retired = new Map<string, ReceiveWindow>();
  /** Latest digest heard from each member: member -> sender -> highest delivered. */
  private readonly digests = new Map<string, Map<string, number>>();
  private blocked = false;
  private survivors: Set<string> | undefined;
  private flushing: Flush | undefined;
  private paused = false;
  private closed = false;
  private handler: (d: Delivery) => void = () => {};
  private readonly waiters = new Waiters();
  private readonly unicastLayer: ReliableUnicast;
  private deliveredSinceDigest = 0;
  private deliveredBytesSinceDigest = 0;
  private digestDirty = false;
  private digestWanted = false;
  private lastDigestAt = 0;
  /** Set by every multicast, cleared by the idle tick: no clock read per message. */
  private sentSinceTick = false;
  private idleDelay: number;
  private idleTimer: { cancel(): void } | undefined;
  private stabilityTimer: { cancel(): void } | undefined;
  private readonly counters = {
    sent: 0,
    delivered: 0,
    received: 0,
    duplicates: 0,
    dropped: 0,
    nacksSent: 0,
    nacksSuppressed: 0,
    retransmitted: 0,
    retransmittedForOthers: 0,
    digestsSent: 0,
    windowFull: 0,
    windowFullMs: 0,
  };
  /** When the current run of refusals began (window full), or undefined. */
  private fullSince: number | undefined;

  constructor(
    private readonly ctx: ProtocolContext,
    options: Partial<NackOptions> = {},
  ) {
    this.opts = nackOptions(options);
    this.self = ctx.self;
    this.maxPayload = ctx.maxPayload - FRAME_OVERHEAD;
    this.idleDelay = this.opts.idleHeartbeat;
    this.view = { id: { coordinator: ctx.self, counter: 0 }, members: [ctx.self] };
    this.unicastLayer = new ReliableUnicast(ctx, this.opts.unicast, (from, payload) =>
      this.handler({ sender: from, payload, multicast: false }),
    );
  }

  get stats(): NackStats {
    let buffered = 0;
    let rtt = 0;
    let timed = 0;
    for (const w of this.recv.values()) {
      buffered += w.held;
      if (w.rtt.samples > 0) {
        rtt += w.rtt.srtt;
        timed++;
      }
    }
    const rttMs = timed > 0 ? Math.round((rtt / timed) * 1000) / 1000 : 0;
    return { ...this.counters, unstable: this.sent.count, unstableBytes: this.sent.bytes, buffered, rttMs };
  }

  /** Unicast counters, for tests and metrics. */
  get unicastStats(): Readonly<Record<string, number>> {
    return this.unicastLayer.stats;
  }

  start(view: View): void {
    this.setView(view, new Map());
    this.scheduleStability();
  }

  onDeliver(handler: (d: Delivery) => void): void {
    this.handler = handler;
  }

  private canMulticast(): boolean {
    return (
      !this.closed &&
      !this.blocked &&
      this.seq - this.stableSelf < this.opts.window &&
      (this.sent.bytes < this.opts.windowBytes || this.seq === this.stableSelf)
    );
  }

  multicast(payload: Uint8Array): boolean {
    if (payload.length > this.maxPayload) {
      throw new BlazeError('LIMIT_EXCEEDED', `payload of ${payload.length} bytes exceeds ${this.maxPayload}`);
    }
    if (!this.canMulticast()) {
      this.counters.windowFull++;
      this.fullSince ??= this.ctx.clock.now();
      return false;
    }
    if (this.fullSince !== undefined) {
      this.counters.windowFullMs += this.ctx.clock.now() - this.fullSince;
      this.fullSince = undefined;
    }
    const seq = ++this.seq;
    const view = this.view.id.counter;
    this.sent.push(seq, payload, view);
    this.counters.sent++;
    this.ctx.wire.multicast('data', { seq, view, payload });
    this.sentSinceTick = true;
    this.digestDirty = true;
    if (this.members.size === 1) this.recomputeStable();
    this.armIdle();
    // A member delivers its own multicasts at once: they are trivially in order and never lost.
    this.counters.delivered++;
    this.handler({ sender: this.self, payload, multicast: true });
    return true;
  }

  unicast(to: string, payload: Uint8Array): boolean {
    if (payload.length > this.maxPayload) {
      throw new BlazeError('LIMIT_EXCEEDED', `payload of ${payload.length} bytes exceeds ${this.maxPayload}`);
    }
    if (this.closed) return false;
    if (to === this.self) {
      this.handler({ sender: this.self, payload, multicast: false });
      return true;
    }
    if (!this.members.has(to)) throw new BlazeError('NOT_FOUND', `${to} is not a member of the view`);
    return this.unicastLayer.send(to, payload);
  }

  writable(to?: string): Promise<void> {
    if (to !== undefined) return this.unicastLayer.writable(to);
    return this.waiters.wait(() => this.closed || this.canMulticast());
  }

  setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    this.unicastLayer.setPaused(paused);
    if (!paused) this.deliverAll();
  }

  handle(from: string, kind: FrameKind, body: FrameBodies[FrameKind]): boolean {
    if (this.closed) return OWN_KINDS.has(kind);
    switch (kind) {
      case 'data':
        this.onData(from, body as McastData);
        return true;
      case 'nack':
        this.onNack(from, body as McastNack);
        return true;
      case 'seq_heartbeat':
        this.onSeqHeartbeat(from, (body as FrameBodies['seq_heartbeat']).seq);
        return true;
      case 'stability':
        this.onStability(from, body as StabilityDigest);
        return true;
      case 'ucast':
        this.unicastLayer.onData(from, body as FrameBodies['ucast']);
        return true;
      case 'ucast_ack':
        this.unicastLayer.onAck(from, body as FrameBodies['ucast_ack']);
        return true;
      default:
        return false;
    }
  }

  // --- flush (view change) -------------------------------------------------------------------------

  prepare(survivors: readonly string[]): Digest {
    this.blocked = true;
    this.survivors = new Set(survivors);
    for (const [sender, w] of this.recv) if (!this.survivors.has(sender)) w.limit = w.delivered;
    return this.digest();
  }

  install(view: View, cut: Digest, done: () => void): void {
    this.blocked = true;
    this.flushing = { view, cut, done };
    // All limits first: the flush is complete only when every sender has reached its cut.
    for (const [sender, w] of this.recv) {
      const target = cut.get(sender) ?? w.delivered;
      w.limit = Math.max(target, w.delivered);
      if (target > w.highest) w.highest = target;
    }
    for (const [sender, w] of this.recv) {
      if (w.missingCount() > 0) this.armNack(sender, w);
      this.deliverFrom(sender, w);
    }
    this.checkFlush();
  }

  abort(): void {
    this.blocked = false;
    this.survivors = undefined;
    this.flushing = undefined;
    for (const w of this.recv.values()) w.limit = Number.POSITIVE_INFINITY;
    this.deliverAll();
    this.waiters.check();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.idleTimer?.cancel();
    this.stabilityTimer?.cancel();
    for (const w of this.recv.values()) w.cancelTimers();
    for (const w of this.retired.values()) w.cancelTimers();
    this.retired.clear();
    this.unicastLayer.close();
    this.waiters.releaseAll();
  }

  private digest(): Digest {
    const d: Digest = new Map([[this.self, this.seq]]);
    for (const [sender, w] of this.recv) d.set(sender, w.delivered);
    return d;
  }

  private checkFlush(): void {
    const f = this.flushing;
    if (!f) return;
    for (const w of this.recv.values()) if (w.delivered < w.limit) return;
    this.flushing = undefined;
    this.setView(f.view, f.cut);
    this.blocked = false;
    this.survivors = undefined;
    f.done();
    this.deliverAll();
    this.recomputeStable();
    this.sendDigest();
    this.waiters.check();
  }

  /** Switches to `view`: forgets departed senders, starts new ones after their cut. */
  private setView(view: View, cut: Digest): void {
    const before = this.members;
    this.view = view;
    this.members = new Set(view.members);
    for (const [sender, w] of this.recv) {
      if (!this.members.has(sender)) {
        w.cancelTimers();
        this.recv.delete(sender);
        this.retire(sender, w);
      }
    }
    for (const m of this.digests.keys()) if (!this.members.has(m)) this.digests.delete(m);
    for (const m of view.members) {
      if (m !== this.self && !this.recv.has(m)) {
        this.recv.set(m, new ReceiveWindow(cut.get(m) ?? 0, view.id.counter, this.opts.rttInitial));
      }
    }
    for (const w of this.recv.values()) w.limit = Number.POSITIVE_INFINITY;
    // Newcomers start at the cut: that is what they "delivered" of everyone. Survivors may still be
    // flushing towards the cut, so their digests must say it themselves (assuming it would free messages
    // a survivor still needs).
    for (const m of view.members) {
      if (m === this.self) continue;
      let d = this.digests.get(m);
      if (!d) {
        d = new Map();
        this.digests.set(m, d);
      }
      for (const s of d.keys()) if (!this.members.has(s)) d.delete(s);
      if (!before.has(m))
        for (const [s, c] of cut) if (this.members.has(s) && c > (d.get(s) ?? 0)) d.set(s, c);
    }
    this.unicastLayer.setMembers(view.members);
  }

  /**
   * A departed sender's messages are kept a while after the view change: members that finish their flush
   * early must still answer the NACKs of those that have not (the sender itself is gone).
   */
  private retire(sender: string, w: ReceiveWindow): void {
    if (w.held === 0) return;
    this.retired.set(sender, w);
    this.ctx.clock.setTimer(this.opts.retainDeparted, () => {
      if (this.retired.get(sender) === w) this.retired.delete(sender);
    });
  }

  // --- receiving -----------------------------------------------------------------------------------

  private onData(from: string, d: McastData): void {
    const sender = d.sender || from;
    if (sender === this.self) return;
    const w = this.recv.get(sender);
    if (!w) {
      // Someone else answered for a departed sender: no need to answer too.
      if (d.retransmit) this.retired.get(sender)?.answers.delete(d.seq);
      this.counters.dropped++;
      return;
    }
    if (d.view < w.since) {
      // Sent before this sender joined: another incarnation's message (see ReceiveWindow.since).
      this.counters.dropped++;
      return;
    }
    if (d.retransmit) w.answers.delete(d.seq);
    if (d.seq <= w.delivered || w.pending.has(d.seq)) {
      this.counters.duplicates++;
      return;
    }
    if (d.seq > w.delivered + 2 * this.opts.window) {
      this.counters.dropped++;
      return;
    }
    this.counters.received++;
    if (w.requested.size > 0 || w.askedAt.size > 0) w.arrived(d.seq, this.ctx.clock.now());
    if (d.seq > w.highest) w.highest = d.seq;
    // The frame itself (McastData is a Stored) is kept only if it cannot be delivered now.
    this.deliverFrom(sender, w, d);
    if (w.missingCount() > 0) this.armNack(sender, w);
  }

  private deliverAll(): void {
    for (const [sender, w] of this.recv) this.deliverFrom(sender, w);
  }

  /**
   * Delivers what is next in order. `arriving` is a message just received (seq > delivered, not held):
   * delivered from here when it is next, without passing through `pending`, else kept there.
   */
  private deliverFrom(sender: string, w: ReceiveWindow, arriving?: McastData): void {
    const counter = this.view.id.counter;
    while (w.delivered < w.limit && (!this.paused || this.flushing)) {
      const next = w.delivered + 1;
      const m: Stored | undefined = arriving?.seq === next ? arriving : w.pending.get(next);
      // Sent in a view this member has not installed yet: wait for the install (virtual synchrony).
      if (!m || m.view > counter) break;
      if (m === arriving) arriving = undefined;
      w.delivering(m);
      this.counters.delivered++;
      this.deliveredSinceDigest++;
      this.deliveredBytesSinceDigest += m.payload.length;
      this.digestDirty = true;
      this.handler({ sender, payload: m.payload, multicast: true });
      if (this.closed || this.recv.get(sender) !== w) return;
    }
    if (arriving) w.pending.set(arriving.seq, arriving);
    // Credit goes back after a quarter of either window, so that senders limited by bytes (large
    // messages) are not left waiting for a quarter of the message count.
    if (
      this.deliveredSinceDigest >= this.opts.window / 4 ||
      this.deliveredBytesSinceDigest >= this.opts.windowBytes / 4
    )
      this.sendDigest();
    if (this.flushing) this.checkFlush();
  }

  /**
   * A gap may have opened (or grown): unless a request pass is already due for it, one runs after the
   * first-request back-off. A pass covers every missing seq, so while a retry is pending only seqs above
   * `scanned` (never looked at) need the short timer.
   */
  private armNack(sender: string, w: ReceiveWindow): void {
    if (w.nackTimer || this.closed) return;
    if (w.highest <= w.scanned && w.retryTimer) return;
    const delay = firstNackDelay(w.rtt, this.members.size, this.opts, this.ctx.random);
    w.nackTimer = this.ctx.clock.setTimer(delay, () => {
      w.nackTimer = undefined;
      this.nackPass(sender, w);
    });
  }

  /**
   * Asks for every missing seq that is due (never requested, or its retry interval passed), then sets
   * the retry timer for the next one that falls due, jittered by the same spread as a first request so
   * that receivers that overheard one NACK do not repeat it in step.
   */
  private nackPass(sender: string, w: ReceiveWindow): void {
    if (this.closed || this.recv.get(sender) !== w) return;
    w.scanned = w.highest;
    w.retryTimer?.cancel();
    w.retryTimer = undefined;
    if (w.missingCount() <= 0) return;
    const now = this.ctx.clock.now();
    const retry = retryInterval(w.rtt, this.opts);
    const { ranges, nextDue } = w.takeNackRanges(now, retry, this.opts.maxNackSeqs, 48);
    if (ranges.length > 0) {
      this.counters.nacksSent++;
      this.ctx.wire.multicast('nack', { sender, ranges });
    }
    if (nextDue === undefined) return;
    const jitter = this.ctx.random() * nackSpread(w.rtt, this.members.size, this.opts);
    w.retryTimer = this.ctx.clock.setTimer(Math.max(0, nextDue - now) + jitter, () => {
      w.retryTimer = undefined;
      this.nackPass(sender, w);
    });
  }

  private onNack(from: string, n: McastNack): void {
    if (!this.members.has(from)) return;
    if (n.sender === this.self) {
      this.retransmitOwn(from, n);
      return;
    }
    const w = this.recv.get(n.sender);
    if (!w) {
      const old = this.retired.get(n.sender);
      if (old) this.offerAnswers(n, old);
      return;
    }
    const now = this.ctx.clock.now();
    let top = 0;
    let heard = false;
    for (const r of n.ranges) {
      top = Math.max(top, r.to);
      for (let s = Math.max(r.from, w.delivered + 1); s <= r.to; s++) {
        if (this.opts.suppression && !w.pending.has(s)) {
          // Someone asked for a seq this member misses too: hold its own request (suppression).
          w.requested.set(s, now);
          heard = true;
        }
      }
    }
    if (heard) this.counters.nacksSuppressed++;
    if (top > w.highest && top <= w.delivered + 2 * this.opts.window) {
      w.highest = top;
      this.armNack(n.sender, w);
    }
    if (this.mayAnswerFor(n.sender)) this.offerAnswers(n, w);
  }

  /**
   * Repairs of this member's own messages. The requester gets its own copy by unicast (see the file
   * comment: it skips the queue of multicast data). In views above `multicastRepairAbove` members the
   * first repair of a seq is also multicast: a member that overheard the NACK and misses the seq too
   * holds its own request and counts on it (SRM). Later requests by the same member mean its copies were
   * lost: unicast only; a request by another member means others miss it too: multicast.
   */
  private retransmitOwn(from: string, n: McastNack): void {
    const now = this.ctx.clock.now();
    let budget = this.opts.maxNackSeqs;
    for (const r of n.ranges) {
      for (let s = r.from; s <= r.to && budget > 0; s++, budget--) {
        if (!this.sent.has(s)) continue;
        const last = this.lastXmit.get(s);
        if (last !== undefined && now - last < this.opts.xmitSuppress) continue;
        const to = this.xmitTo.get(s);
        this.lastXmit.set(s, now);
        this.counters.retransmitted++;
        // The payload is a view into the ring: the wire copies it before returning.
        const data = { seq: s, view: this.sent.view(s), payload: this.sent.payload(s), retransmit: true };
        if (to === undefined || to === from) {
          this.xmitTo.set(s, from);
          this.ctx.wire.unicast(from, 'data', data);
          if (to === undefined && this.members.size > this.opts.multicastRepairAbove)
            this.ctx.wire.multicast('data', data);
        } else {
          this.xmitTo.set(s, MULTICAST);
          this.ctx.wire.multicast('data', data);
        }
      }
    }
  }

  /** Members answer for a sender that has departed or is departing, and for everyone during a flush. */
  private mayAnswerFor(sender: string): boolean {
    return (
      !this.members.has(sender) ||
      (this.survivors !== undefined && !this.survivors.has(sender)) ||
      this.flushing !== undefined
    );
  }

  private offerAnswers(n: McastNack, w: ReceiveWindow): void {
    let budget = this.opts.maxNackSeqs;
    for (const r of n.ranges) {
      for (let s = r.from; s <= r.to && budget > 0; s++, budget--) if (w.has(s)) w.answers.add(s);
    }
    if (w.answers.size === 0 || w.answerTimer) return;
    const sender = n.sender;
    w.answerTimer = this.ctx.clock.setTimer(this.ctx.random() * this.opts.holderDelay, () => {
      w.answerTimer = undefined;
      if (this.closed) return;
      for (const s of w.answers) {
        const m = w.message(s);
        if (!m) continue;
        this.counters.retransmittedForOthers++;
        this.ctx.wire.multicast('data', {
          seq: s,
          view: m.view,
          payload: m.payload,
          sender,
          retransmit: true,
        });
      }
      w.answers.clear();
    });
  }

  private onSeqHeartbeat(from: string, seq: number): void {
    const w = this.recv.get(from);
    if (!w || seq <= w.highest || seq > w.delivered + 2 * this.opts.window) return;
    w.highest = seq;
    this.armNack(from, w);
  }

  // --- stability and flow control ------------------------------------------------------------------

  private onStability(from: string, d: StabilityDigest): void {
    if (!this.members.has(from)) return;
    // Stamped before its author and this member shared a view: it speaks of the views before, where
    // an address may have belonged to another incarnation (a restarted member's predecessor).
    if (d.view < (this.recv.get(from)?.since ?? 0)) return;
    if (d.want) this.digestWanted = true;
    let known = this.digests.get(from);
    if (!known) {
      known = new Map();
      this.digests.set(from, known);
    }
    // Only an entry that was at or below a sender's stable point can have held that point back: only
    // those senders are recomputed (a full recomputation per digest frame is O(members^2), which made
    // views of 100+ members crawl).
    const dirty: string[] = [];
    for (const e of d.entries) {
      if (!this.members.has(e.sender)) continue;
      const w = this.recv.get(e.sender);
      // Likewise for a sender that joined after the digest's view.
      if (w && d.view < w.since) continue;
      const old = known.get(e.sender) ?? 0;
      if (e.seq > old) {
        known.set(e.sender, e.seq);
        if (old <= this.stablePoint(e.sender)) dirty.push(e.sender);
      }
      // Another member has delivered more of this sender than this member knows exists: a lost tail.
      if (w && e.seq > w.highest && e.seq <= w.delivered + 2 * this.opts.window) {
        w.highest = e.seq;
        this.armNack(e.sender, w);
      }
    }
    if (dirty.length > 0) this.recomputeStable(dirty);
  }

  /**
   * Stable point of each of `senders` (default: every member): the minimum over the view of what each
   * member delivered of it, O(members) per sender. What became stable is freed.
   */
  private recomputeStable(senders: Iterable<string> = this.view.members): void {
    for (const sender of senders) {
      let min = sender === this.self ? this.seq : (this.recv.get(sender)?.delivered ?? 0);
      for (const m of this.view.members) {
        if (m === this.self) continue;
        min = Math.min(min, this.digests.get(m)?.get(sender) ?? 0);
      }
      if (sender === this.self) {
        if (min > this.stableSelf) {
          this.sent.freeTo(min);
          if (this.lastXmit.size > 0)
            for (let s = this.stableSelf + 1; s <= min; s++) {
              this.lastXmit.delete(s);
              this.xmitTo.delete(s);
            }
          this.stableSelf = min;
          this.waiters.check();
        }
      } else {
        const w = this.recv.get(sender);
        if (w && min > w.stable) w.free(min);
      }
    }
  }

  private stablePoint(sender: string): number {
    return sender === this.self ? this.stableSelf : (this.recv.get(sender)?.stable ?? 0);
  }

  private sendDigest(): void {
    if (this.closed) return;
    const entries = [{ sender: this.self, seq: this.seq }];
    for (const [sender, w] of this.recv) entries.push({ sender, seq: w.delivered });
    this.deliveredSinceDigest = 0;
    this.deliveredBytesSinceDigest = 0;
    this.digestDirty = false;
    this.digestWanted = false;
    this.lastDigestAt = this.ctx.clock.now();
    this.counters.digestsSent++;
    this.recomputeStable();
    const want = this.anythingUnstable();
    // Large views need several frames to stay within a datagram; each is a valid partial digest.
    for (let i = 0; i < entries.length; i += DIGEST_ENTRIES_PER_FRAME) {
      const chunk = entries.slice(i, i + DIGEST_ENTRIES_PER_FRAME);
      this.ctx.wire.multicast('stability', { view: this.view.id.counter, entries: chunk, want });
    }
  }

  /**
   * Digests go out when something changed or another member asked (`want`); when nothing did, they are
   * repeated at a slower pace while anything is still unstable, asking the others to repeat theirs (a lost
   * digest must not pin buffers). Once all is stable the group falls silent.
   */
  private scheduleStability(): void {
    this.stabilityTimer = this.ctx.clock.setTimer(this.opts.stabilityInterval, () => {
      if (this.closed) return;
      const idleFor = this.ctx.clock.now() - this.lastDigestAt;
      const slow = idleFor >= 5 * this.opts.stabilityInterval && this.anythingUnstable();
      if (this.digestDirty || this.digestWanted || slow) {
        this.sendDigest();
      }
      this.scheduleStability();
    });
  }

  private anythingUnstable(): boolean {
    if (this.seq > this.stableSelf) return true;
    for (const w of this.recv.values()) if (w.stable < w.delivered || w.delivered < w.highest) return true;
    return false;
  }

  /** Idle sender heartbeat: announces the highest seq while some of it is unstable, with back-off. */
  private armIdle(): void {
    this.idleDelay = this.opts.idleHeartbeat;
    if (this.idleTimer) return;
    // The first tick comes idleHeartbeat after this send; each later one asks whether a whole period
    // passed without a send.
    this.sentSinceTick = false;
    const tick = () => {
      this.idleTimer = undefined;
      if (this.closed || this.seq <= this.stableSelf) return;
      const quiet = !this.sentSinceTick;
      this.sentSinceTick = false;
      if (quiet) {
        this.ctx.wire.multicast('seq_heartbeat', { seq: this.seq });
        this.idleDelay = Math.min(this.idleDelay * 2, 1000);
      }
      this.idleTimer = this.ctx.clock.setTimer(this.idleDelay, tick);
    };
    this.idleTimer = this.ctx.clock.setTimer(this.idleDelay, tick);
  }
}

export function createNackProtocol(options: Partial<NackOptions> = {}) {
  return (ctx: ProtocolContext): ReliableProtocol => new NackProtocol(ctx, options);
}
