import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import { bySender, payload, pump, range, staticGroup } from './helpers.js';

describe('NACK reliable multicast over a lossy, reordering, duplicating network', () => {
  it('5 members, 5% loss, 3 senders x 2000: everyone delivers everything exactly once in per-sender order', () => {
    const net = new SimNetwork({
      seed: 7,
      link: { loss: 0.05, delay: 1, jitter: 3, duplicate: 0.02, reorder: 0.05, reorderDelay: 4 },
    });
    const group = staticGroup(net, 5);
    const senders = group.slice(0, 3);
    const N = 2000;
    const pumps = senders.map((m) => pump(net, m, N));
    const done = () => group.every((m) => m.deliveries.length === senders.length * N);
    expect(net.runUntil(done, 60_000)).toBe(true);
    for (const p of pumps) expect(p.sent()).toBe(N);
    for (const m of group) {
      const got = bySender(m.deliveries);
      expect([...got.keys()].sort()).toEqual(senders.map((s) => s.address).sort());
      for (const s of senders) expect(got.get(s.address)).toEqual(range(1, N));
    }
    const total = (k: 'nacksSent' | 'retransmitted' | 'duplicates') =>
      group.reduce((a, m) => a + m.protocol.stats[k], 0);
    expect(total('nacksSent')).toBeGreaterThan(0);
    expect(total('retransmitted')).toBeGreaterThan(0);
    expect(net.stats.duplicated).toBeGreaterThan(0);
    expect(total('duplicates')).toBeGreaterThan(0);
    // Once quiet, stability frees every buffer.
    net.run(2_000);
    for (const m of group) {
      expect(m.protocol.stats.unstable).toBe(0);
      expect(m.protocol.stats.buffered).toBe(0);
    }
  });
});

describe('NACK protocol mechanisms', () => {
  function runWithEgressLoss(suppression: boolean) {
    // Loss at the sender's side: every receiver misses the same datagrams, the case suppression is for.
    const net = new SimNetwork({ seed: 41, link: { delay: 1, jitter: 1 } });
    const group = staticGroup(net, 6, { suppression });
    // The sender is far (10 ms) from receivers that are close to each other (1 ms): a receiver hears a
    // peer's NACK long before the retransmission could arrive, which is when suppression matters (SRM).
    net.setLink('m1', '*', { delay: 10 });
    net.setLink('*', 'm1', { delay: 10 });
    net.setEgressLoss('m1', 0.05);
    // Paced, so that each loss is a gap of its own rather than one big NACK covering many.
    pump(net, group[0]!, 1000, 1, 5);
    const done = () => group.every((m) => m.deliveries.length === 1000);
    expect(net.runUntil(done, 60_000)).toBe(true);
    for (const m of group) expect(bySender(m.deliveries).get('m1')).toEqual(range(1, 1000));
    return group.reduce((a, m) => a + m.protocol.stats.nacksSent, 0);
  }

  it('suppression: receivers missing the same message mostly ask once (far fewer NACKs)', () => {
    const withSuppression = runWithEgressLoss(true);
    const without = runWithEgressLoss(false);
    // 5 receivers miss every lost message; without suppression each asks, with it about one does.
    expect(withSuppression).toBeGreaterThan(0);
    expect(withSuppression * 2).toBeLessThan(without);
  });

  it('stability frees the retransmission buffers during the run (bounded) and completely once quiet', () => {
    const net = new SimNetwork({ seed: 43, link: { loss: 0.05, delay: 1, jitter: 2 } });
    const window = 200;
    const group = staticGroup(net, 4, { window });
    pump(net, group[0]!, 3000);
    pump(net, group[1]!, 3000);
    let maxUnstable = 0;
    let maxBuffered = 0;
    const done = () => {
      for (const m of group) {
        maxUnstable = Math.max(maxUnstable, m.protocol.stats.unstable);
        maxBuffered = Math.max(maxBuffered, m.protocol.stats.buffered);
      }
      return group.every((m) => m.deliveries.length === 6000);
    };
    expect(net.runUntil(done, 120_000)).toBe(true);
    // Own unstable messages never exceed the window. Others' are bounded too (independent of the 6000
    // sent): two senders' windows plus what digests in flight have not freed yet.
    expect(maxUnstable).toBeLessThanOrEqual(window);
    expect(maxBuffered).toBeLessThanOrEqual(2 * 2 * window);
    net.run(3_000);
    for (const m of group) {
      expect(m.protocol.stats.unstable).toBe(0);
      expect(m.protocol.stats.buffered).toBe(0);
    }
  });

  it('flow control: a paused (slow) member holds senders to the window; resuming delivers everything', () => {
    const net = new SimNetwork({ seed: 47, link: { loss: 0.02, delay: 1 } });
    const window = 100;
    const group = staticGroup(net, 3, { window });
    const slow = group[2]!;
    slow.protocol.setPaused(true);
    const p = pump(net, group[0]!, 1000);
    net.run(5_000);
    expect(p.sent()).toBe(window);
    expect(group[0]!.protocol.stats.windowFull).toBeGreaterThan(0);
    expect(slow.deliveries.length).toBe(0);
    expect(slow.protocol.stats.buffered).toBeLessThanOrEqual(window);
    expect(group[1]!.deliveries.length).toBe(window);
    slow.protocol.setPaused(false);
    expect(net.runUntil(() => slow.deliveries.length === 1000, 60_000)).toBe(true);
    expect(bySender(slow.deliveries).get('m1')).toEqual(range(1, 1000));
  });

  it('flow control counts bytes too: windowBytes stops a sender before the message window', () => {
    const net = new SimNetwork({ seed: 48, link: { loss: 0.02, delay: 1 } });
    const group = staticGroup(net, 3, { window: 100, windowBytes: 40 });
    const slow = group[2]!;
    slow.protocol.setPaused(true);
    const p = pump(net, group[0]!, 200);
    net.run(5_000);
    // Payloads 'm1:1'..'m1:9' are 4 bytes, 'm1:10' 5: the tenth crosses 40 bytes, the eleventh waits.
    expect(p.sent()).toBe(10);
    expect(group[0]!.protocol.stats.unstableBytes).toBe(41);
    slow.protocol.setPaused(false);
    expect(net.runUntil(() => slow.deliveries.length === 200, 60_000)).toBe(true);
    expect(bySender(slow.deliveries).get('m1')).toEqual(range(1, 200));
    net.run(2_000);
    expect(group[0]!.protocol.stats.unstableBytes).toBe(0);
  });

  it('a lost tail is found through the idle sender heartbeat', () => {
    const net = new SimNetwork({ seed: 53, link: { delay: 1 } });
    const group = staticGroup(net, 3);
    net.setLink('m1', 'm3', { loss: 1 });
    for (let i = 1; i <= 5; i++) group[0]!.protocol.multicast(payload('m1', i));
    net.run(5);
    net.setLink('m1', 'm3', { loss: 0, delay: 1 });
    // m3 received nothing at all from m1: only heartbeats (or digests) can tell it that 1..5 exist.
    expect(net.runUntil(() => group[2]!.deliveries.length === 5, 5_000)).toBe(true);
    expect(bySender(group[2]!.deliveries).get('m1')).toEqual(range(1, 5));
  });

  it('reliable unicast: 2000 messages over loss, reordering and duplication arrive once, in order', () => {
    const net = new SimNetwork({
      seed: 59,
      link: { loss: 0.1, delay: 1, jitter: 3, duplicate: 0.05, reorder: 0.1, reorderDelay: 5 },
    });
    const [a, b] = staticGroup(net, 2, { unicast: { window: 64, rto: 20, maxRto: 500, ackDelay: 3 } });
    let i = 0;
    const loop = () => {
      while (i < 2000 && a!.protocol.unicast('m2', payload('m1', i + 1))) i++;
      if (i < 2000) net.clock.setTimer(1, loop);
    };
    loop();
    expect(net.runUntil(() => b!.deliveries.length === 2000, 60_000)).toBe(true);
    expect(b!.deliveries.every((d) => !d.multicast)).toBe(true);
    expect(bySender(b!.deliveries).get('m1')).toEqual(range(1, 2000));
    expect(a!.protocol.unicastStats.retransmitted).toBeGreaterThan(0);
  });

  it('property: any seed and loss/reorder/duplication mix gives exactly-once per-sender FIFO', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        fc.integer({ min: 0, max: 5 }),
        (seed, loss, duplicate, jitter) => {
          const net = new SimNetwork({ seed, link: { loss, duplicate, delay: 1, jitter, reorder: 0.05 } });
          const group = staticGroup(net, 3, { window: 64 });
          pump(net, group[0]!, 150);
          pump(net, group[1]!, 150);
          expect(net.runUntil(() => group.every((m) => m.deliveries.length === 300), 120_000)).toBe(true);
          for (const m of group) {
            const got = bySender(m.deliveries);
            expect(got.get('m1')).toEqual(range(1, 150));
            expect(got.get('m2')).toEqual(range(1, 150));
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});
