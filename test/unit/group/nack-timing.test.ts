/**
 * The NACK timer rules (src/group/reliable/nack/timing.ts) and repair routing: pure functions first,
 * then the protocol over the deterministic simulated network (seeded).
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/group/clock.js';
import { type NackOptions, nackOptions } from '../../../src/group/reliable/nack/options.js';
import { ReceiveWindow } from '../../../src/group/reliable/nack/receive-window.js';
import {
  firstNackDelay,
  nackSpread,
  RttEstimator,
  retryInterval,
} from '../../../src/group/reliable/nack/timing.js';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import type { McastNack } from '../../../src/group/wire.js';
import { bySender, payload, range, type StaticMember, staticGroup } from './helpers.js';

const o = nackOptions();

describe('RTT estimator and timer rules', () => {
  it('first sample sets srtt and rttvar = srtt/2; later ones smooth with 1/8 and 1/4 (RFC 6298)', () => {
    const r = new RttEstimator(5);
    expect(r.samples).toBe(0);
    r.sample(2);
    expect([r.srtt, r.rttvar]).toEqual([2, 1]);
    r.sample(10);
    expect(r.rttvar).toBeCloseTo(0.75 * 1 + 0.25 * 8);
    expect(r.srtt).toBeCloseTo(0.875 * 2 + 0.125 * 10);
    r.sample(-3); // a clock step backwards counts as 0, never negative
    expect(r.srtt).toBeGreaterThan(0);
  });

  it('retry interval: nackRetry until a round trip was timed, then srtt + 4 rttvar within [min, max]', () => {
    const r = new RttEstimator(5);
    expect(retryInterval(r, o)).toBe(o.nackRetry);
    r.sample(1); // srtt 1, rttvar 0.5 -> 3, which is nackRetryMin
    expect(retryInterval(r, o)).toBe(Math.max(o.nackRetryMin, 3));
    r.sample(1);
    r.sample(1);
    expect(retryInterval(r, o)).toBe(o.nackRetryMin);
    const slow = new RttEstimator(5);
    slow.sample(30);
    expect(retryInterval(slow, o)).toBe(o.nackRetry);
  });

  it('spread: one round trip per other receiver, at least one, capped at nackDelayMax - nackDelayMin', () => {
    const r = new RttEstimator(5);
    r.sample(0.5);
    expect(nackSpread(r, 2, o)).toBe(0.5);
    expect(nackSpread(r, 3, o)).toBe(0.5);
    expect(nackSpread(r, 6, o)).toBe(2);
    expect(nackSpread(r, 120, o)).toBe(o.nackDelayMax - o.nackDelayMin);
    const fixed: NackOptions = { ...o, nackDelayMin: 7, nackDelayMax: 7 };
    expect(nackSpread(r, 120, fixed)).toBe(0);
  });

  it('first delay lies in [nackDelayMin, nackDelayMin + spread] and covers it (seeded draws)', () => {
    const r = new RttEstimator(4);
    const opts: NackOptions = { ...o, nackDelayMin: 1 };
    const random = seededRandom(99);
    const draws = Array.from({ length: 2000 }, () => firstNackDelay(r, 3, opts, random));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...draws)).toBeLessThanOrEqual(1 + 4);
    expect(Math.min(...draws)).toBeLessThan(1.1);
    expect(Math.max(...draws)).toBeGreaterThan(4.9);
  });
});

describe('ReceiveWindow request bookkeeping', () => {
  function gapWindow(): ReceiveWindow {
    const w = new ReceiveWindow(0, 0, 5);
    w.highest = 4;
    w.pending.set(4, { payload: new Uint8Array(1), view: 0 });
    return w;
  }

  it('takes missing seqs as ranges and says when the next request falls due', () => {
    const w = gapWindow();
    const first = w.takeNackRanges(100, 10, 512, 48);
    expect(first.ranges).toEqual([{ from: 1, to: 3 }]);
    expect(first.nextDue).toBe(110);
    // Nothing due before the retry interval; the second try waits twice as long.
    expect(w.takeNackRanges(105, 10, 512, 48)).toEqual({ ranges: [], nextDue: 110 });
    const second = w.takeNackRanges(110, 10, 512, 48);
    expect(second.ranges).toEqual([{ from: 1, to: 3 }]);
    expect(second.nextDue).toBe(130);
    // Limits cut the list short: the rest is due at once.
    const w2 = gapWindow();
    expect(w2.takeNackRanges(0, 10, 2, 48)).toEqual({ ranges: [{ from: 1, to: 2 }], nextDue: 0 });
  });

  it("times the round trip only for seqs asked for once (Karn's rule)", () => {
    const w = gapWindow();
    w.takeNackRanges(100, 10, 512, 48);
    w.arrived(1, 104);
    expect(w.rtt.samples).toBe(1);
    expect(w.rtt.srtt).toBe(4);
    w.takeNackRanges(110, 10, 512, 48); // seqs 2 and 3 asked for a second time
    w.arrived(2, 111);
    w.arrived(3, 140);
    expect(w.rtt.samples).toBe(1);
    expect(w.askedAt.has(2) || w.askedAt.has(3)).toBe(false);
  });
});

/** Records every NACK a member multicasts, with the simulated time. */
function nackLog(net: SimNetwork, m: StaticMember): { at: number; nack: McastNack }[] {
  const log: { at: number; nack: McastNack }[] = [];
  const wire = m.wire;
  const multicast = wire.multicast.bind(wire);
  wire.multicast = ((kind, body) => {
    if (kind === 'nack') log.push({ at: net.clock.now(), nack: body as McastNack });
    multicast(kind, body);
  }) as typeof wire.multicast;
  return log;
}

const asks = (n: McastNack, seq: number) => n.ranges.some((r) => r.from <= seq && seq <= r.to);

describe('NACK timing over the simulated network', () => {
  it('a new gap is asked for after the short back-off even while an older seq waits for its retry', () => {
    const net = new SimNetwork({ seed: 5, link: { delay: 1 } });
    // A retry far away: before, a new gap waited for it (the pass that re-armed the NACK timer).
    const group = staticGroup(net, 3, { nackRetry: 200, nackRetryMin: 200 });
    const [s, , r] = group as [StaticMember, StaticMember, StaticMember];
    const log = nackLog(net, r);
    const send = (i: number) => s.protocol.multicast(payload('m1', i));
    send(1);
    net.setLink('m1', 'm3', { loss: 1, delay: 1 });
    send(2); // lost at m3, and so is its repair below
    net.setLink('m1', 'm3', { loss: 0, delay: 1 });
    send(3);
    net.run(3);
    net.setLink('m1', 'm3', { loss: 1, delay: 1 });
    net.run(20);
    expect(log.filter((e) => asks(e.nack, 2))).toHaveLength(1);
    // Seq 2 now waits ~200 ms for its retry. A new gap opens: seq 4 lost, seq 5 arrives.
    send(4);
    net.setLink('m1', 'm3', { loss: 0, delay: 1 });
    send(5);
    const gapSeenAt = net.clock.now() + 1;
    net.run(30);
    const for4 = log.filter((e) => asks(e.nack, 4));
    expect(for4.length).toBeGreaterThan(0);
    expect(for4[0]!.at - gapSeenAt).toBeLessThanOrEqual(o.nackDelayMax);
    expect(net.runUntil(() => r.deliveries.length === 5, 2_000)).toBe(true);
    expect(bySender(r.deliveries).get('m1')).toEqual(range(1, 5));
  });

  /** Mean extra delay (ms) of the messages m3 got late (lost and repaired), 3 members, 0.25-ms links. */
  function repairDelay(opts: Partial<NackOptions>): { mean: number; rttMs: number } {
    const net = new SimNetwork({ seed: 11, link: { delay: 0.25, loss: 0.03 } });
    const group = staticGroup(net, 3, opts);
    const r = group[2]!;
    const sentAt: number[] = [];
    const late: number[] = [];
    r.protocol.onDeliver((d) => {
      r.deliveries.push(d);
      const i = Number(new TextDecoder().decode(d.payload).split(':')[1]);
      const wait = net.clock.now() - sentAt[i]! - 0.25;
      if (wait > 0.01) late.push(wait);
    });
    let i = 0;
    const loop = () => {
      for (let b = 0; b < 5 && i < 4000; b++) {
        sentAt[i + 1] = net.clock.now();
        if (!group[0]!.protocol.multicast(payload('m1', i + 1))) break;
        i++;
      }
      if (i < 4000) net.clock.setTimer(1, loop);
    };
    loop();
    expect(net.runUntil(() => group.every((m) => m.deliveries.length === 4000), 60_000)).toBe(true);
    expect(bySender(r.deliveries).get('m1')).toEqual(range(1, 4000));
    expect(late.length).toBeGreaterThan(50);
    return { mean: late.reduce((a, b) => a + b, 0) / late.length, rttMs: r.protocol.stats.rttMs };
  }

  it('small view on a fast network: a gap is repaired within about a round trip, not the 2-15 ms of before', () => {
    const adaptive = repairDelay({});
    expect(adaptive.rttMs).toBeGreaterThan(0.4);
    expect(adaptive.rttMs).toBeLessThan(2);
    // Messages behind a gap wait for it: about the back-off (<= one RTT here) plus the RTT.
    expect(adaptive.mean).toBeLessThan(3);
    // The same run with the old fixed floor of 2 ms before any NACK waits measurably longer.
    const floored = repairDelay({ nackDelayMin: 2 });
    expect(floored.mean).toBeGreaterThan(adaptive.mean + 1);
  });

  it('3 members: a repair goes by unicast to the member that asked; others see no duplicate', () => {
    const net = new SimNetwork({ seed: 13, link: { delay: 1 } });
    const group = staticGroup(net, 3);
    const [s, q, r] = group as [StaticMember, StaticMember, StaticMember];
    net.setLink('m1', 'm3', { loss: 0.05, delay: 1 });
    let i = 0;
    const loop = () => {
      for (let b = 0; b < 2; b++) if (s.protocol.multicast(payload('m1', i + 1))) i++;
      if (i < 1000) net.clock.setTimer(1, loop);
    };
    loop();
    expect(net.runUntil(() => group.every((m) => m.deliveries.length === 1000), 30_000)).toBe(true);
    expect(s.protocol.stats.retransmitted).toBeGreaterThan(0);
    expect(q.protocol.stats.duplicates).toBe(0);
    expect(bySender(r.deliveries).get('m1')).toEqual(range(1, 1000));
  });

  it('a second member asking for the same seq gets a multicast repair; big views multicast the first', () => {
    for (const [n, firstMulticast] of [
      [3, false],
      [6, true],
    ] as const) {
      const net = new SimNetwork({ seed: 17, link: { delay: 1 } });
      const group = staticGroup(net, n);
      const s = group[0]!;
      let multicastRepairs = 0;
      const multicast = s.wire.multicast.bind(s.wire);
      s.wire.multicast = ((kind, body) => {
        if (kind === 'data' && (body as { retransmit?: boolean }).retransmit) multicastRepairs++;
        multicast(kind, body);
      }) as typeof s.wire.multicast;
      s.protocol.multicast(payload('m1', 1));
      net.run(10);
      const nack = (from: string) =>
        s.protocol.handle(from, 'nack', { sender: 'm1', ranges: [{ from: 1, to: 1 }] });
      nack('m2');
      expect(multicastRepairs).toBe(firstMulticast ? 1 : 0);
      net.run(o.xmitSuppress + 1);
      nack('m3');
      expect(multicastRepairs).toBe(firstMulticast ? 2 : 1);
      expect(s.protocol.stats.retransmitted).toBe(2);
    }
  });
});
