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
  /** Random back-off before the first NACK of a gap, uniform in [min, max] ms (SRM-style suppression). */
  nackDelayMin: number;
  nackDelayMax: number;
  /** A missing message is requested again (by anyone) at most once per this many ms. */
  nackRetry: number;
  /** Hold one's NACK when another member's NACK for the same messages is heard. Off only to measure it. */
  suppression: boolean;
  /** A sender retransmits one message at most once per this many ms, however many NACKs ask for it. */
  xmitSuppress: number;
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
  nackDelayMin: 2,
  nackDelayMax: 15,
  nackRetry: 40,
  suppression: true,
  xmitSuppress: 10,
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
