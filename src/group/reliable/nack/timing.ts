/**
 * When a receiver asks for a missing message, and when it asks again: SRM's adaptive request timers
 * (Floyd et al., "A Reliable Multicast Framework for Light-weight Sessions", section III) scaled to a
 * LAN. A request waits `nackDelayMin + U[0,1) x spread` after a gap opens, where
 *
 *   spread = min(nackDelayMax - nackDelayMin, srtt x max(1, members - 2))
 *
 * SRM draws its request timer from [C1 d, (C1 + C2) d], d the distance to the source; the random part
 * (C2 d) is what lets the first receiver's NACK reach the others before their own timers fire
 * (suppression). With receivers equally far from each other (one LAN) the expected number of requests for
 * one loss seen by all of them is about 1 + (receivers - 1) x d / spread, so a spread of one round trip per
 * other receiver keeps it near 2, and a view with one or two receivers, where suppression can save at
 * most one NACK, asks within one round trip instead of the fixed 2-15 ms of before (a gap is open almost
 * all the time at 40 k msgs/s and 2 % loss, and every message behind it waits). Big views reach the
 * `nackDelayMax` cap exactly as before. `srtt` is per sender, measured from this member's own requests
 * to the repair (RttEstimator), so queueing at a busy receiver, which delays the repair as much as the
 * network does, is in it.
 *
 * A request not answered is repeated after the retransmission timeout (RFC 6298's srtt + 4 rttvar, within
 * [nackRetryMin, nackRetry]; nackRetry until the first sample), doubled per further try of the same seq
 * (ReceiveWindow.takeNackRanges).
 */
import type { Random } from '../../clock.js';
import type { NackOptions } from './options.js';

/**
 * Smoothed round trip and its variation (RFC 6298, section 2: alpha 1/8, beta 1/4), from NACK to repair.
 * Samples follow Karn's rule: only a seq requested once by this member gives one (a repair after a retry
 * cannot be told apart from a repair of the first request).
 */
export class RttEstimator {
  srtt: number;
  rttvar: number;
  samples = 0;

  constructor(initial: number) {
    this.srtt = initial;
    this.rttvar = initial / 2;
  }

  sample(ms: number): void {
    const r = Math.max(0, ms);
    if (this.samples++ === 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
  }
}

type TimingOptions = Pick<NackOptions, 'nackDelayMin' | 'nackDelayMax' | 'nackRetry' | 'nackRetryMin'>;

/** Width of the random part of a request timer, ms (see the file comment). */
export function nackSpread(rtt: RttEstimator, members: number, o: TimingOptions): number {
  return Math.max(0, Math.min(o.nackDelayMax - o.nackDelayMin, rtt.srtt * Math.max(1, members - 2)));
}

/** Wait before the first request for a gap just seen, ms. */
export function firstNackDelay(rtt: RttEstimator, members: number, o: TimingOptions, random: Random): number {
  return o.nackDelayMin + random() * nackSpread(rtt, members, o);
}

/**
 * Wait before asking again for a seq requested once, ms (further tries double it). Until a round trip has
 * been timed it is the conservative `nackRetry`: a member whose requests were all suppressed by others'
 * NACKs has no sample, and asking again before the repair to the others could arrive only adds NACKs.
 */
export function retryInterval(rtt: RttEstimator, o: TimingOptions): number {
  if (rtt.samples === 0) return o.nackRetry;
  return Math.min(o.nackRetry, Math.max(o.nackRetryMin, rtt.srtt + 4 * rtt.rttvar));
}
