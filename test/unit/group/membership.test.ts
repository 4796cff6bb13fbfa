import { describe, expect, it } from 'vitest';
import type { Channel } from '../../../src/group/channel.js';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import { agreed, simChannel, startGroup } from './channel-helpers.js';

const TIMEOUT = 3000; // the default failure timeout (ms of virtual time)

function addresses(chans: readonly Channel[]): string[] {
  return chans.map((c) => c.localAddress);
}

describe('membership on the simulated network', () => {
  it('5 members discover each other and agree on one view', async () => {
    const net = new SimNetwork({ seed: 1, link: { loss: 0.02, delay: 1, jitter: 1 } });
    const chans = await startGroup(net, 5);
    expect(await net.runUntilAsync(() => agreed(chans, addresses(chans)), 20_000)).toBe(true);
    expect(chans[0]!.view!.members[0]).toBe('m1');
    expect([...chans[0]!.view!.members].sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });

  for (const victim of [2, 0]) {
    const who = victim === 0 ? 'the coordinator' : 'a member';
    it(`when ${who} crashes, all survivors install the same view without it within 3x the timeout`, async () => {
      const net = new SimNetwork({ seed: 3 + victim, link: { loss: 0.05, delay: 1, jitter: 2 } });
      const chans = await startGroup(net, 5);
      await net.runUntilAsync(() => agreed(chans, addresses(chans)), 20_000);
      const leaves: string[][] = chans.map(() => []);
      for (const [i, c] of chans.entries()) c.on('leave', (m) => leaves[i]!.push(m));
      const dead = chans[victim]!;
      const survivors = chans.filter((c) => c !== dead);
      const t0 = net.clock.now();
      net.crash(dead.localAddress);
      const ok = await net.runUntilAsync(() => agreed(survivors, addresses(survivors)), 3 * TIMEOUT);
      expect(ok).toBe(true);
      expect(net.clock.now() - t0).toBeLessThanOrEqual(3 * TIMEOUT);
      for (const [i, c] of chans.entries()) if (c !== dead) expect(leaves[i]).toEqual([dead.localAddress]);
      if (victim === 0) expect(survivors[0]!.view!.members[0]).toBe('m2');
    });
  }

  it('graceful leave of a member and of the coordinator: views shrink, leave events fire', async () => {
    const net = new SimNetwork({ seed: 11, link: { loss: 0.03, delay: 1, jitter: 1 } });
    const chans = await startGroup(net, 4);
    await net.runUntilAsync(() => agreed(chans, addresses(chans)), 20_000);
    const left: string[] = [];
    chans[3]!.on('leave', (m) => left.push(m));

    let closed = false;
    chans[1]!.close().then(() => {
      closed = true;
    });
    const rest = [chans[0]!, chans[2]!, chans[3]!];
    expect(await net.runUntilAsync(() => closed && agreed(rest, addresses(rest)), 10_000)).toBe(true);

    closed = false;
    chans[0]!.close().then(() => {
      closed = true;
    });
    const last = [chans[2]!, chans[3]!];
    expect(await net.runUntilAsync(() => closed && agreed(last, addresses(last)), 10_000)).toBe(true);
    expect(left).toEqual(['m2', 'm1']);
    // A graceful leave is not a failure: nobody had to be suspected.
    for (const c of last) expect(c.stats.membership!.verificationsFailed).toBe(0);
  });

  it('a partition splits the group in two views; healing merges them into one', async () => {
    const net = new SimNetwork({ seed: 5, link: { loss: 0.02, delay: 1, jitter: 1 } });
    const chans = await startGroup(net, 5);
    const all = addresses(chans);
    await net.runUntilAsync(() => agreed(chans, all), 20_000);
    const a = chans.slice(0, 3);
    const b = chans.slice(3);
    net.partition(addresses(a), addresses(b));
    expect(await net.runUntilAsync(() => agreed(a, addresses(a)) && agreed(b, addresses(b)), 20_000)).toBe(
      true,
    );
    expect(['m4', 'm5']).toContain(b[0]!.view!.members[0]);
    net.heal();
    expect(await net.runUntilAsync(() => agreed(chans, all), 30_000)).toBe(true);
    // The partition with the lowest coordinator leads the merge; its members come first.
    expect([...chans[0]!.view!.members.slice(0, 3)].sort()).toEqual(['m1', 'm2', 'm3']);
    expect(chans[0]!.view!.id.coordinator).toBe('m1');
  });

  it('a member excluded while alive (its link was down) comes back through a merge', async () => {
    const net = new SimNetwork({ seed: 9, link: { delay: 1, jitter: 1 } });
    const chans = await startGroup(net, 3);
    const all = addresses(chans);
    await net.runUntilAsync(() => agreed(chans, all), 20_000);
    // m3 hears nothing for a while but is not told so: the others exclude it.
    net.setLink('*', 'm3', { loss: 1 });
    const rest = chans.slice(0, 2);
    expect(await net.runUntilAsync(() => agreed(rest, addresses(rest)), 15_000)).toBe(true);
    net.setLink('*', 'm3', { loss: 0, delay: 1, jitter: 1 });
    expect(await net.runUntilAsync(() => agreed(chans, all), 30_000)).toBe(true);
  });

  it('two members started at the same instant found two groups, which merge', async () => {
    const net = new SimNetwork({ seed: 21, link: { delay: 1 } });
    const a = simChannel(net, 'a');
    const b = simChannel(net, 'b');
    void a.connect();
    void b.connect();
    expect(await net.runUntilAsync(() => agreed([a, b], ['a', 'b']), 20_000)).toBe(true);
    expect(a.view!.members).toEqual(['a', 'b']);
  });
});
