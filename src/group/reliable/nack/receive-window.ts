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

export interface Stored {
  payload: Uint8Array;
  /** Counter of the view the sender sent it in. */
  view: number;
}

/** Longest wait before asking again for the same message, in multiples of `nackRetry`. */
const MAX_BACKOFF = 16;

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
  /** During a flush, no delivery beyond this seq (the cut); Infinity otherwise. */
  limit = Number.POSITIVE_INFINITY;
  nackTimer: Timer | undefined;
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
  ) {
    this.delivered = start;
    this.highest = start;
    this.stable = start;
    this.kept = new PayloadRing(start + 1);
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
   * Missing seqs as ranges, skipping those requested within `retry` ms of `now` (by this member or by
   * another whose NACK was overheard). Marks the returned ones as requested now.
   */
  takeNackRanges(now: number, retry: number, max: number, maxRanges: number): SeqRange[] {
    const ranges: SeqRange[] = [];
    let count = 0;
    let open: SeqRange | undefined;
    for (let s = this.delivered + 1; s <= this.highest && count < max; s++) {
      const t = this.requested.get(s);
      const wanted =
        !this.pending.has(s) &&
        (t === undefined || now - t >= retry * Math.min(MAX_BACKOFF, 2 ** ((this.tries.get(s) ?? 1) - 1)));
      if (!wanted) {
        open = undefined;
        continue;
      }
      if (open && open.to === s - 1) open.to = s;
      else {
        // Bounded so that one NACK always fits a datagram.
        if (ranges.length >= maxRanges) break;
        open = { from: s, to: s };
        ranges.push(open);
      }
      this.requested.set(s, now);
      this.tries.set(s, (this.tries.get(s) ?? 0) + 1);
      count++;
    }
    return ranges;
  }

  /** Frees what every member has delivered. */
  free(upTo: number): void {
    const to = Math.min(upTo, this.delivered);
    this.kept.freeTo(to);
    if (to > this.stable) this.stable = to;
    if (this.requested.size > 0)
      for (const s of this.requested.keys()) if (s <= this.delivered) this.requested.delete(s);
    if (this.tries.size > 0) for (const s of this.tries.keys()) if (s <= this.delivered) this.tries.delete(s);
  }

  cancelTimers(): void {
    this.nackTimer?.cancel();
    this.answerTimer?.cancel();
    this.nackTimer = undefined;
    this.answerTimer = undefined;
  }
}
