/**
 * Views larger than one datagram: with 120 members an install frame (members, incarnations, cut) is
 * ~6 KB, over four times the simulated network's 1400-byte datagrams, so the frame wire cuts it into
 * frame_fragment pieces (src/group/frame-wire.ts). The group must still form, agree, exclude a crashed
 * member and carry traffic to everyone, under loss.
 */
import { describe, expect, it } from 'vitest';
import type { Channel } from '../../../src/group/channel.js';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import { agreed, collector, simChannel } from './channel-helpers.js';

const N = 120;

/** O(members) per call, unlike `agreed` (O(members^2)): it runs after every simulated event. */
function sameView(chans: readonly Channel[], size: number): boolean {
  const id = chans[0]?.view?.id;
  return chans.every(
    (c) =>
      c.view?.id.counter === id?.counter &&
      c.view?.id.coordinator === id?.coordinator &&
      c.view?.members.length === size,
  );
}

describe('a view of 120 members (larger than a datagram)', () => {
  it('forms, agrees, excludes a crashed member, and delivers to everyone', async () => {
    const net = new SimNetwork({ seed: 17, link: { loss: 0.01, delay: 1 } });
    // Addresses of realistic length, so that frames are as large as on a real network.
    const address = (i: number) => `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}:45566`;
    const opts = { membership: { failureTimeout: 2500, heartbeatInterval: 1000, verifyTimeout: 500 } };
    const chans: Channel[] = [simChannel(net, address(0), opts)];
    let connected = 0;
    chans[0]!.connect().then(() => connected++);
    expect(await net.runUntilAsync(() => connected === 1, 5_000)).toBe(true);
    for (let i = 1; i < N; i++) {
      const ch = simChannel(net, address(i), opts);
      chans.push(ch);
      ch.connect().then(() => connected++);
    }
    const all = chans.map((c) => c.localAddress);
    expect(await net.runUntilAsync(() => connected === N && sameView(chans, N), 60_000)).toBe(true);
    expect(agreed(chans, all)).toBe(true);
    expect(chans[0]!.view!.members).toHaveLength(N);
    expect(chans[0]!.view!.incarnations).toHaveLength(N);
    // The install (and discovery response) frames did not fit a datagram: they travelled in pieces.
    expect(chans[0]!.stats.wire!.fragmented).toBeGreaterThan(0);
    const reassembled = chans.reduce((n, c) => n + c.stats.wire!.reassembled, 0);
    expect(reassembled).toBeGreaterThanOrEqual(N - 1);

    const victim = chans[N - 1]!;
    net.crash(victim.localAddress);
    const survivors = chans.slice(0, N - 1);
    const rest = all.slice(0, N - 1);
    expect(await net.runUntilAsync(() => sameView(survivors, N - 1), 3 * 2500)).toBe(true);
    expect(agreed(survivors, rest)).toBe(true);

    const got = survivors.map(collector);
    const senders = [survivors[0]!, survivors[60]!];
    for (let i = 1; i <= 20; i++) for (const s of senders) void s.broadcast(`${s.localAddress}:${i}`);
    const done = () => got.every((g) => senders.every((s) => g.get(s.localAddress)?.length === 20));
    expect(await net.runUntilAsync(done, 10_000)).toBe(true);
  }, 60_000);
});
