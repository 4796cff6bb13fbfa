import { DEFAULT_UNICAST, type UnicastOptions } from '../unicast.js';

export interface NackOptions {
  /**
   * Flow control: a sender may have at most this many of its messages not yet stable (delivered by every
   * member); past it `multicast` returns false. A slow member therefore slows the senders instead of being
   * overrun, and retransmission buffers stay bounded by window x senders.
   */
  window: number;
  /**
   * The same limit in bytes of payload: past it `multicast` returns false, whatever the count, so that
   * large messages (or the fragments of one) cannot pin window x size bytes. One message always fits.
   */
  windowBytes: number;
  /**
   * Back-off before the first NACK of a gap: nackDelayMin + a uniform draw over a spread that grows with
   * the measured round trip to the sender and the view's size, capped so that it ends by nackDelayMax ms
   * (SRM's adaptive request timer, see ./timing.ts). Fixed at [min, max] only when min = max.
   */
  nackDelayMin: number;
  nackDelayMax: number;
  /**
   * A missing message is requested again (by anyone) after the retransmission timeout: the measured
   * round trip plus four times its variation, within [nackRetryMin, nackRetry] ms, doubled per try.
   */
  nackRetry: number;
  nackRetryMin: number;
  /** Round trip assumed (ms) for a sender until a repair of this member's request has been timed. */
  rttInitial: number;
  /** Hold one's NACK when another member's NACK for the same messages is heard. Off only to measure it. */
  suppression: boolean;
  /**
   * A sender retransmits one message at most once per this many ms, however many NACKs ask for it. Keep it
   * at or below nackRetryMin, or a receiver's genuine second request may be swallowed.
   */
  xmitSuppress: number;
  /**
   * In views of more than this many members the first repair of a seq is multicast as well as unicast to
   * the member that asked, for members that overheard the NACK and held their own (SRM suppression pays
   * when many receivers share a loss). In smaller views it is unicast only: loss at one receiver (a lost
   * packet, an overrun socket buffer) is the common case on a LAN, where a multicast repair costs every
   * other member a duplicate, and doubles the traffic of a burst repaired after an overrun. A second
   * member asking for the same seq gets it by multicast in any view.
   */
  multicastRepairAbove: number;
  /** Upper bound of the random back-off of a member answering for a departed sender, ms. */
  holderDelay: number;
  /** Period of the stability digest, ms (also sent after delivering window/4 messages or windowBytes/4). */
  stabilityInterval: number;
  /** First idle heartbeat of the highest seq after the last send, ms; doubles up to 1000 ms. */
  idleHeartbeat: number;
  /** A departed sender's messages are kept this long (ms) after the view change, for late flushers. */
  retainDeparted: number;
  /** Seqs requested in one NACK at most. */
  maxNackSeqs: number;
  unicast: UnicastOptions;
}

export const DEFAULT_NACK: NackOptions = {
  window: 1024,
  windowBytes: 4 * 1024 * 1024,
  nackDelayMin: 0,
  nackDelayMax: 15,
  nackRetry: 40,
  nackRetryMin: 3,
  rttInitial: 5,
  suppression: true,
  xmitSuppress: 3,
  multicastRepairAbove: 4,
  holderDelay: 20,
  stabilityInterval: 100,
  idleHeartbeat: 20,
  retainDeparted: 5000,
  maxNackSeqs: 512,
  unicast: DEFAULT_UNICAST,
};

export function nackOptions(o: Partial<NackOptions> = {}): NackOptions {
  return { ...DEFAULT_NACK, ...o, unicast: { ...DEFAULT_UNICAST, ...o.unicast } };
}
