/**
 * What a member keeps for one remote sender: messages received but not yet delivered (out of order, or
 * held until their view is installed) and messages delivered but not yet stable (kept so that this
 * member can retransmit them if the sender departs). Everything at or below `stable` is freed.
 *
 *   stable <= delivered <= highest
 *   kept holds every seq in (stable, delivered], as bytes (PayloadRing: no heap object per message);
 *   pending holds some of (delivered, highest], as received; the rest is missing.
 *
 * Without loss or reordering a message goes straight from its datagram to the application and into
 * `kept`: `pending` stays empty, and nothing of the decoded frame outlives the delivery.
 */
import type { Timer } from '../../clock.js';
import type { SeqRange } from '../../wire.js';
import { PayloadRing } from './payload-ring.js';
import { RttEstimator } from './timing.js';

export interface Stored {
  payload: Uint8Array;
  /** Counter of the view the sender sent it in. */
  view: number;
}

/** Longest wait before asking again for the same message, in multiples of the retry interval. */
const MAX_BACKOFF = 16;

/** Missing seqs to ask for now, and when the next of the others falls due (undefined: none missing). */
export interface NackTake {
  ranges: SeqRange[];
  nextDue: number | undefined;
}

export class ReceiveWindow {
  delivered: number;
  highest: number;
  stable: number;
  /** Received, not yet delivered (seq > delivered). */
  readonly pending = new Map<number, Stored>();
  /** Delivered, not yet stable: (stable, delivered]. */
  private readonly kept: PayloadRing;
  /** seq -> when it was last requested by anyone (own NACK or one overheard): suppression. */
  readonly requested = new Map<number, number>();
  /**
   * seq -> how many NACKs this member sent for it. The wait before asking again doubles with each (up to
   * `MAX_BACKOFF` x retry): a retransmission queued behind a backlog at this receiver is not asked for
   * again and again, which would add to the very backlog that delays it (congestion collapse, seen in the
   * lab as ~10 retransmissions per message at 1 KiB under 2 % loss before this back-off).
   */
  readonly tries = new Map<number, number>();
  /**
   * seq -> when this member first asked for it, while it asked only once: the repair times the round trip
   * (Karn's rule: after a second request the sample would be ambiguous, so the entry goes).
   */
  readonly askedAt = new Map<number, number>();
  /** Round trip from this member's NACK to the sender's repair (see ./timing.ts). */
  readonly rtt: RttEstimator;
  /** Highest seq a NACK pass has looked at: anything above is a gap nobody may have asked for yet. */
  scanned: number;
  /** During a flush, no delivery beyond this seq (the cut); Infinity otherwise. */
  limit = Number.POSITIVE_INFINITY;
  /**
   * Two timers, so that a new gap never waits behind the retry of an old one: `nackTimer` runs the
   * short back-off of a gap just seen, `retryTimer` the next request due for seqs already asked for.
   */
  nackTimer: Timer | undefined;
  retryTimer: Timer | undefined;
  /** Seqs this member offered to retransmit on behalf of a departed sender, after a random back-off. */
  readonly answers = new Set<number>();
  answerTimer: Timer | undefined;

  /**
   * @param since counter of the view that admitted the sender (for this member): the sender's messages
   *   up to `start` (the cut) are behind it, and every later one was sent in this view or a later one. A
   *   message stamped with an older view is therefore not this sender's: it belongs to a predecessor on
   *   the same address (a restarted process), e.g. retransmitted late by a holder, and is dropped.
   */
  constructor(
    start: number,
    readonly since = 0,
    rttInitial = 5,
  ) {
    this.delivered = start;
    this.highest = start;
    this.stable = start;
    this.scanned = start;
    this.kept = new PayloadRing(start + 1);
    this.rtt = new RttEstimator(rttInitial);
  }

  /** Messages held: delivered but not stable, and received but not delivered. */
  get held(): number {
    return this.kept.count + this.pending.size;
  }

  has(seq: number): boolean {
    return seq <= this.delivered ? this.kept.has(seq) : this.pending.has(seq);
  }

  /** Message `seq` if held (a new object over the kept bytes: for retransmissions, not the hot path). */
  message(seq: number): Stored | undefined {
    if (seq > this.delivered) return this.pending.get(seq);
    if (!this.kept.has(seq)) return undefined;
    return { payload: this.kept.payload(seq), view: this.kept.view(seq) };
  }

  /** Records the delivery of `m`, the message `delivered + 1`: its bytes are copied into `kept`. */
  delivering(m: Stored): void {
    const seq = ++this.delivered;
    if (this.pending.size > 0) this.pending.delete(seq);
    this.kept.push(seq, m.payload, m.view);
  }

  /** Count of seqs in (delivered, highest] not held. O(1). */
  missingCount(): number {
    return this.highest - this.delivered - this.pending.size;
  }

  /**
   * Missing seqs as ranges, skipping those requested within `retry` ms (doubled per own try, up to
   * MAX_BACKOFF x) of `now`, by this member or by another whose NACK was overheard. Marks the returned
   * ones as requested now. `nextDue` is the earliest time one of the missing seqs not returned (or just
   * returned) may be asked for again; `now` when the limits cut the list short.
   */
  takeNackRanges(now: number, retry: number, max: number, maxRanges: number): NackTake {
    const ranges: SeqRange[] = [];
    let count = 0;
    let open: SeqRange | undefined;
    let nextDue: number | undefined;
    const due = (t: number) => {
      if (nextDue === undefined || t < nextDue) nextDue = t;
    };
    for (let s = this.delivered + 1; s <= this.highest; s++) {
      if (this.pending.has(s)) {
        open = undefined;
        continue;
      }
      const t = this.requested.get(s);
      const tries = this.tries.get(s) ?? 0;
      const wait = retry * Math.min(MAX_BACKOFF, 2 ** Math.max(0, tries - 1));
      if (t !== undefined && now - t < wait) {
        due(t + wait);
        open = undefined;
        continue;
      }
      if (count >= max) {
        due(now);
        break;
      }
      if (open && open.to === s - 1) open.to = s;
      else {
        // Bounded so that one NACK always fits a datagram.
        if (ranges.length >= maxRanges) {
          due(now);
          break;
        }
        open = { from: s, to: s };
        ranges.push(open);
      }
      this.requested.set(s, now);
      this.tries.set(s, tries + 1);
      if (tries === 0) this.askedAt.set(s, now);
      else if (this.askedAt.size > 0) this.askedAt.delete(s);
      due(now + retry * Math.min(MAX_BACKOFF, 2 ** tries));
      count++;
    }
    return { ranges, nextDue };
  }

  /**
   * Seq `seq` arrived (not a duplicate): it is no longer requested, and if this member asked for it
   * exactly once, the wait since is a round-trip sample.
   */
  arrived(seq: number, now: number): void {
    if (this.requested.size > 0) this.requested.delete(seq);
    if (this.tries.size > 0) this.tries.delete(seq);
    if (this.askedAt.size > 0) {
      const at = this.askedAt.get(seq);
      if (at !== undefined) {
        this.askedAt.delete(seq);
        this.rtt.sample(now - at);
      }
    }
  }

  /** Frees what every member has delivered. */
  free(upTo: number): void {
    const to = Math.min(upTo, this.delivered);
    this.kept.freeTo(to);
    if (to > this.stable) this.stable = to;
    if (this.requested.size > 0)
      for (const s of this.requested.keys()) if (s <= this.delivered) this.requested.delete(s);
    if (this.tries.size > 0) for (const s of this.tries.keys()) if (s <= this.delivered) this.tries.delete(s);
    if (this.askedAt.size > 0)
      for (const s of this.askedAt.keys()) if (s <= this.delivered) this.askedAt.delete(s);
  }

  cancelTimers(): void {
    this.nackTimer?.cancel();
    this.retryTimer?.cancel();
    this.answerTimer?.cancel();
    this.nackTimer = undefined;
    this.retryTimer = undefined;
    this.answerTimer = undefined;
  }
}
