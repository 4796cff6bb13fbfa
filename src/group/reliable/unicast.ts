/**
 * Reliable FIFO point-to-point messaging (like JGroups UNICAST3): per (sender, receiver) connection a
 * sequence from 1, cumulative acks (delayed a little so that a burst costs one ack), retransmission of
 * unacked messages after a timeout that backs off, and a send window per peer for back-pressure.
 *
 * A connection is named by a random `conn` id chosen by the sender. Every data frame also carries the
 * sender's lowest unacked seq (`first`), so a receiver that has no state for a connection (it restarted,
 * or it dropped the peer on a view change) starts there instead of waiting forever for older messages.
 */
import type { Timer } from '../clock.js';
import type { UcastAck, UcastData } from '../wire.js';
import type { ProtocolContext } from './types.js';
import { Waiters } from './waiters.js';

export interface UnicastOptions {
  /** Unacked messages per peer before `send` refuses (back-pressure). */
  window: number;
  /** First retransmission timeout, ms; doubles per timeout up to `maxRto`, back to `rto` on progress. */
  rto: number;
  maxRto: number;
  /** Acks wait this long (ms) for more messages to acknowledge together, or 16 deliveries. */
  ackDelay: number;
}

export const DEFAULT_UNICAST: UnicastOptions = { window: 1024, rto: 40, maxRto: 1000, ackDelay: 5 };

interface SendConn {
  conn: number;
  next: number;
  /**
   * Sent and not yet acked: always the seqs [firstUnacked, next] (acks are cumulative). Found by that
   * bound, never by `keys().next()`: a Map iterates over the holes its deletions left, O(window).
   */
  unacked: Map<number, { payload: Uint8Array; sentAt: number }>;
  firstUnacked: number;
  rto: number;
  timer: Timer | undefined;
}

interface RecvConn {
  conn: number;
  expected: number;
  buf: Map<number, Uint8Array>;
  ackTimer: Timer | undefined;
  sinceAck: number;
}

export class ReliableUnicast {
  readonly stats = { sent: 0, delivered: 0, retransmitted: 0, duplicates: 0, acksSent: 0, dropped: 0 };
  private readonly sends = new Map<string, SendConn>();
  private readonly recvs = new Map<string, RecvConn>();
  private members = new Set<string>();
  private paused = false;
  private closed = false;
  private readonly waiters = new Waiters();

  constructor(
    private readonly ctx: ProtocolContext,
    private readonly opts: UnicastOptions,
    private readonly deliver: (from: string, payload: Uint8Array) => void,
  ) {}

  canSend(to: string): boolean {
    const s = this.sends.get(to);
    return !this.closed && (!s || s.unacked.size < this.opts.window);
  }

  send(to: string, payload: Uint8Array): boolean {
    if (!this.canSend(to)) return false;
    let s = this.sends.get(to);
    if (!s) {
      s = {
        conn: this.newConnId(),
        next: 0,
        unacked: new Map(),
        firstUnacked: 1,
        rto: this.opts.rto,
        timer: undefined,
      };
      this.sends.set(to, s);
    }
    const seq = ++s.next;
    s.unacked.set(seq, { payload, sentAt: this.ctx.clock.now() });
    this.stats.sent++;
    this.transmit(to, s, seq, payload);
    this.armRetransmit(to, s);
    return true;
  }

  writable(to: string): Promise<void> {
    return this.waiters.wait(() => this.canSend(to));
  }

  /** Only members of the current view may exchange unicasts; state of anyone else is dropped. */
  setMembers(members: readonly string[]): void {
    this.members = new Set(members);
    for (const [peer, s] of this.sends) {
      if (!this.members.has(peer)) {
        s.timer?.cancel();
        this.sends.delete(peer);
      }
    }
    for (const [peer, r] of this.recvs) {
      if (!this.members.has(peer)) {
        r.ackTimer?.cancel();
        this.recvs.delete(peer);
      }
    }
    this.waiters.check();
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    if (!paused) for (const [peer, r] of this.recvs) this.drain(peer, r);
  }

  onData(from: string, d: UcastData): void {
    if (this.closed || !this.members.has(from)) {
      this.stats.dropped++;
      return;
    }
    let r = this.recvs.get(from);
    if (!r || r.conn !== d.conn) {
      r?.ackTimer?.cancel();
      r = { conn: d.conn, expected: Math.max(1, d.first), buf: new Map(), ackTimer: undefined, sinceAck: 0 };
      this.recvs.set(from, r);
    } else if (d.first > r.expected) {
      // The sender forgot messages below `first` because they were acked: only possible if this receiver
      // lost its state meanwhile. Skip ahead rather than wait forever.
      for (const k of r.buf.keys()) if (k < d.first) r.buf.delete(k);
      r.expected = d.first;
    }
    if (d.seq < r.expected || r.buf.has(d.seq)) {
      this.stats.duplicates++;
      this.scheduleAck(from, r, true);
      return;
    }
    if (d.seq >= r.expected + 2 * this.opts.window) {
      this.stats.dropped++;
      return;
    }
    r.buf.set(d.seq, d.payload);
    this.drain(from, r);
  }

  onAck(from: string, a: UcastAck): void {
    const s = this.sends.get(from);
    if (!s || s.conn !== a.conn) return;
    if (a.seq < s.firstUnacked) return;
    const upTo = Math.min(a.seq, s.next);
    for (let seq = s.firstUnacked; seq <= upTo; seq++) s.unacked.delete(seq);
    s.firstUnacked = upTo + 1;
    s.rto = this.opts.rto;
    if (s.unacked.size === 0) {
      s.timer?.cancel();
      s.timer = undefined;
    }
    this.waiters.check();
  }

  close(): void {
    this.closed = true;
    for (const s of this.sends.values()) s.timer?.cancel();
    for (const r of this.recvs.values()) r.ackTimer?.cancel();
    this.sends.clear();
    this.recvs.clear();
    this.waiters.releaseAll();
  }

  private drain(from: string, r: RecvConn): void {
    if (this.paused) return;
    let n = 0;
    for (let p = r.buf.get(r.expected); p !== undefined; p = r.buf.get(r.expected)) {
      r.buf.delete(r.expected);
      r.expected++;
      n++;
      this.stats.delivered++;
      this.deliver(from, p);
      if (this.paused || this.recvs.get(from) !== r) break;
    }
    if (n > 0) {
      r.sinceAck += n;
      this.scheduleAck(from, r, r.sinceAck >= 16);
    }
  }

  private scheduleAck(to: string, r: RecvConn, now: boolean): void {
    if (now) {
      r.ackTimer?.cancel();
      r.ackTimer = undefined;
      this.sendAck(to, r);
    } else if (!r.ackTimer) {
      r.ackTimer = this.ctx.clock.setTimer(this.opts.ackDelay, () => {
        r.ackTimer = undefined;
        this.sendAck(to, r);
      });
    }
  }

  private sendAck(to: string, r: RecvConn): void {
    if (this.closed || this.recvs.get(to) !== r) return;
    r.sinceAck = 0;
    this.stats.acksSent++;
    this.ctx.wire.unicast(to, 'ucast_ack', { conn: r.conn, seq: r.expected - 1 });
  }

  private transmit(to: string, s: SendConn, seq: number, payload: Uint8Array): void {
    const first = s.unacked.size > 0 ? s.firstUnacked : seq;
    this.ctx.wire.unicast(to, 'ucast', { conn: s.conn, seq, payload, first });
  }

  private armRetransmit(to: string, s: SendConn): void {
    if (s.timer) return;
    s.timer = this.ctx.clock.setTimer(s.rto, () => {
      s.timer = undefined;
      if (this.closed || this.sends.get(to) !== s || s.unacked.size === 0) return;
      const now = this.ctx.clock.now();
      for (const [seq, m] of s.unacked) {
        if (now - m.sentAt < s.rto) continue;
        m.sentAt = now;
        this.stats.retransmitted++;
        this.transmit(to, s, seq, m.payload);
      }
      s.rto = Math.min(s.rto * 2, this.opts.maxRto);
      this.armRetransmit(to, s);
    });
  }

  private newConnId(): number {
    return Math.floor(this.ctx.random() * 0xfffffffe) + 1;
  }
}
