import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import { bySender, pump, range, staticGroup } from './helpers.js';

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
