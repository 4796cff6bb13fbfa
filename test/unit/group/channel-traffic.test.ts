import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import { agreed, broadcaster, collector, simChannel, startGroup } from './channel-helpers.js';
import { range } from './helpers.js';

const LOSSY = { loss: 0.05, delay: 1, jitter: 3, duplicate: 0.02, reorder: 0.05, reorderDelay: 4 };

describe('channel broadcasts through membership and NACK over a bad network', () => {
  it('5 members, 3 senders x 1500, 5% loss + reordering + duplication: exactly once, per-sender order', async () => {
    const net = new SimNetwork({ seed: 17, link: LOSSY });
    const chans = await startGroup(net, 5);
    const all = chans.map((c) => c.localAddress);
    await net.runUntilAsync(() => agreed(chans, all), 20_000);
    const got = chans.map(collector);
    const N = 1500;
    const senders = chans.slice(0, 3).map((c) => broadcaster(net, c, N));
    const done = () => got.every((g) => chans.slice(0, 3).every((s) => g.get(s.localAddress)?.length === N));
    expect(await net.runUntilAsync(done, 60_000)).toBe(true);
    for (const s of senders) expect(s.finished()).toBe(true);
    for (const g of got) {
      expect([...g.keys()].sort()).toEqual(all.slice(0, 3));
      for (const s of all.slice(0, 3)) expect(g.get(s)).toEqual(range(1, N));
    }
    const nacks = chans.reduce((a, c) => a + c.stats.protocol!.nacksSent, 0);
    expect(nacks).toBeGreaterThan(0);
  });

  it('a member joining during traffic receives everything sent after its join, and nothing is lost for others', async () => {
    const net = new SimNetwork({ seed: 23, link: LOSSY });
    const chans = await startGroup(net, 4);
    await net.runUntilAsync(
      () =>
        agreed(
          chans,
          chans.map((c) => c.localAddress),
        ),
      20_000,
    );
    const got = chans.map(collector);
    const N = 1500;
    const senders = chans.slice(0, 2);
    const calls = senders.map((c) => broadcaster(net, c, N, 2));
    // How many broadcasts each sender had made when it installed the view with the joiner.
    const before = new Map<string, number>();
    for (const [i, c] of senders.entries()) {
      c.on('view', (v) => {
        if (v.members.includes('j') && !before.has(c.localAddress)) {
          before.set(c.localAddress, calls[i]!.calls());
        }
      });
    }
    await net.runAsync(1000);
    const joiner = simChannel(net, 'j');
    const jgot = collector(joiner);
    void joiner.connect();
    const everyone = [...chans, joiner];
    const done = () =>
      calls.every((c) => c.finished()) &&
      [...got, jgot].every((g) => senders.every((s) => g.get(s.localAddress)?.at(-1) === N));
    expect(await net.runUntilAsync(done, 60_000)).toBe(true);
    expect(agreed(everyone, [...chans.map((c) => c.localAddress), 'j'])).toBe(true);
    for (const g of got) for (const s of senders) expect(g.get(s.localAddress)).toEqual(range(1, N));
    for (const s of senders) {
      const list = jgot.get(s.localAddress)!;
      const first = list[0]!;
      // A contiguous suffix: no gap, no duplicate, up to the last message...
      expect(list).toEqual(range(first, N));
      // ...that starts no later than the first broadcast made after the sender installed the joiner's view.
      expect(first).toBeGreaterThan(1);
      expect(first).toBeLessThanOrEqual(before.get(s.localAddress)! + 1);
    }
  });

  it('a sender crashing mid-traffic: survivors agree on exactly which of its messages were delivered', async () => {
    const net = new SimNetwork({ seed: 29, link: LOSSY });
    const chans = await startGroup(net, 5);
    await net.runUntilAsync(
      () =>
        agreed(
          chans,
          chans.map((c) => c.localAddress),
        ),
      20_000,
    );
    const got = chans.map(collector);
    const N = 1000;
    const calls = chans.slice(0, 3).map((c) => broadcaster(net, c, N, 1));
    await net.runAsync(400);
    const victim = chans[2]!;
    net.crash(victim.localAddress);
    const survivors = chans.filter((c) => c !== victim);
    const done = () =>
      agreed(
        survivors,
        survivors.map((c) => c.localAddress),
      ) &&
      calls[0]!.finished() &&
      calls[1]!.finished() &&
      got.every(
        (g, i) => chans[i] === victim || chans.slice(0, 2).every((s) => g.get(s.localAddress)?.length === N),
      );
    expect(await net.runUntilAsync(done, 60_000)).toBe(true);
    const fromVictim = got.filter((_, i) => chans[i] !== victim).map((g) => g.get(victim.localAddress) ?? []);
    expect(fromVictim[0]!.length).toBeGreaterThan(100);
    expect(fromVictim[0]).toEqual(range(1, fromVictim[0]!.length));
    for (const l of fromVictim) expect(l).toEqual(fromVictim[0]);
    for (const [i, g] of got.entries()) {
      if (chans[i] === victim) continue;
      for (const s of chans.slice(0, 2)) expect(g.get(s.localAddress)).toEqual(range(1, N));
    }
  });
});
