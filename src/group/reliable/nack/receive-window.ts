/**
 * What a member keeps for one remote sender: messages received but not yet delivered (out of order, or
 * held until their view is installed) and messages delivered but not yet stable (kept so that this
 * member can retransmit them if the sender departs). Everything at or below `stable` is freed.
 *
 *   stable <= delivered <= highest
 *   store holds every seq in (stable, delivered] and some of (delivered, highest]; the rest is missing.
 */
import type { Timer } from '../../clock.js';
import type { SeqRange } from '../../wire.js';

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
  readonly store = new Map<number, Stored>();
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
  }

  /** Count of seqs in (delivered, highest] not held. O(1): every seq in (stable, delivered] is in store. */
  missingCount(): number {
    const undelivered = this.store.size - (this.delivered - this.stable);
    return this.highest - this.delivered - undelivered;
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
        !this.store.has(s) &&
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
    for (let s = this.stable + 1; s <= to; s++) this.store.delete(s);
    if (to > this.stable) this.stable = to;
    for (const s of this.requested.keys()) if (s <= this.delivered) this.requested.delete(s);
    for (const s of this.tries.keys()) if (s <= this.delivered) this.tries.delete(s);
  }

  cancelTimers(): void {
    this.nackTimer?.cancel();
    this.answerTimer?.cancel();
    this.nackTimer = undefined;
    this.answerTimer = undefined;
  }
}
