/**
 * Incarnations (src/group/incarnation.ts): a member killed and restarted on the same address during
 * traffic is a new member. Its sequence numbers start again at 1 and carry the same payload texts as its
 * predecessor's, so a receiver that took it for the old member would drop its messages as duplicates or
 * wait forever on the old one's gaps. Checked: nothing lost, nothing duplicated, views agree.
 */
import { describe, expect, it } from 'vitest';
import { type Channel, createChannel } from '../../../src/group/channel.js';
import {
  SimNetwork as Net,
  type SimNetwork,
  type SimTransport,
} from '../../../src/group/testing/sim-network.js';
import { encodeFrame } from '../../../src/group/wire.js';
import { agreed, broadcaster, collector } from './channel-helpers.js';
import { range } from './helpers.js';

const LOSSY = { loss: 0.02, delay: 1, jitter: 2 };

interface Member {
  ch: Channel;
  transport: SimTransport;
}

function start(net: SimNetwork, address: string, incarnation = 1): Member {
  const transport = net.endpoint(address, incarnation);
  const ch = createChannel({
    name: 'g',
    transport,
    clock: net.clock,
    random: net.randomFor(`${address}/${incarnation}`),
  });
  return { ch, transport };
}

/** kill -9: the process and its socket vanish at once; nothing more is sent or received. */
async function kill(m: Member): Promise<void> {
  await m.transport.close();
}

async function connectAll(net: SimNetwork, members: Member[]): Promise<void> {
  let n = 0;
  for (const m of members) {
    m.ch.connect().then(() => n++);
    await net.runAsync(50);
  }
  expect(await net.runUntilAsync(() => n === members.length, 30_000)).toBe(true);
}

describe('a member restarted on the same address', () => {
  for (const victimIndex of [2, 0]) {
    const who = victimIndex === 0 ? 'the coordinator' : 'a member';
    it(`${who}, during traffic: admitted as a new member, nothing lost or duplicated, views agree`, async () => {
      const net = new Net({ seed: 41 + victimIndex, link: LOSSY });
      const members = ['m1', 'm2', 'm3', 'm4'].map((a) => start(net, a));
      await connectAll(net, members);
      const chans = members.map((m) => m.ch);
      const addrs = chans.map((c) => c.localAddress);
      expect(await net.runUntilAsync(() => agreed(chans, addrs), 20_000)).toBe(true);

      const victim = members[victimIndex]!;
      const survivors = chans.filter((c) => c !== victim.ch);
      const got = survivors.map(collector);
      const N = 600;
      // Every member sends, the victim included, one message every 2 ms; the survivors for long enough
      // to overlap the restarted member's membership.
      const NS = 2000;
      const calls = chans.map((c) => broadcaster(net, c, c === victim.ch ? N : NS, 2));
      await net.runAsync(500);
      await kill(victim);
      await net.runAsync(20);

      // Same address, new incarnation, same payload texts from seq 1 again.
      const reborn = start(net, victim.ch.localAddress, 2);
      const rebornGot = collector(reborn.ch);
      let connected = false;
      reborn.ch.connect().then(() => {
        connected = true;
      });
      expect(await net.runUntilAsync(() => connected, 20_000)).toBe(true);
      const after = broadcaster(net, reborn.ch, N, 2);

      const live = [...survivors, reborn.ch];
      const others = survivors.map((c) => c.localAddress);
      const done = () =>
        agreed(live, addrs) &&
        after.finished() &&
        survivors.every((_, i) => calls[chans.indexOf(survivors[i]!)]!.finished()) &&
        got.every((g) => others.every((s) => g.get(s)?.length === NS)) &&
        got.every((g) => (g.get(victim.ch.localAddress)?.length ?? 0) >= N) &&
        others.every((s) => (rebornGot.get(s)?.at(-1) ?? 0) === NS);
      const ok = await net.runUntilAsync(done, 60_000);
      if (!ok) {
        console.log(
          net.clock.now(),
          live.map((c) => JSON.stringify(c.view)),
          after.calls(),
          after.finished(),
        );
        console.log(got.map((g) => [...g].map(([k, v]) => `${k}:${v.length}:${v.at(-1)}`).join(' ')));
        console.log([...rebornGot].map(([k, v]) => `${k}:${v.length}:${v[0]}-${v.at(-1)}`).join(' '));
        console.log(calls.map((c) => c.calls()));
      }
      expect(ok).toBe(true);

      // The view names the new incarnation, at the same address, everywhere.
      for (const c of live) {
        const v = c.view!;
        expect(v.incarnations?.[v.members.indexOf(victim.ch.localAddress)]).toBe(2);
      }
      // The old incarnation was excluded (a leave) and the new one admitted (a join) by separate views.
      const restarts = survivors.reduce((n, c) => n + c.stats.membership!.restarts, 0);
      expect(restarts).toBeGreaterThan(0);

      for (const g of got) {
        // Survivors' streams: all of them, exactly once, in order.
        for (const s of others) expect(g.get(s)).toEqual(range(1, NS));
        // The victim's address: a prefix of the old incarnation's stream, the same at every survivor
        // (virtual synchrony), then the whole of the new one's.
        const list = g.get(victim.ch.localAddress)!;
        const k = list.length - N;
        expect(k).toBeGreaterThan(50);
        expect(list).toEqual([...range(1, k), ...range(1, N)]);
        expect(list).toEqual(got[0]!.get(victim.ch.localAddress));
      }
      // The new incarnation receives a contiguous suffix of every survivor's stream: all that was sent
      // after its join, no gap, no duplicate.
      for (const s of others) {
        const list = rebornGot.get(s)!;
        expect(list.length).toBeGreaterThan(100);
        expect(list).toEqual(range(list[0]!, NS));
      }
      expect(rebornGot.get(victim.ch.localAddress)).toEqual(range(1, N));
    });
  }

  it('datagrams of an older incarnation are dropped, not taken for the member nor as a restart', async () => {
    const net = new Net({ seed: 7, link: { delay: 1 } });
    const members = ['m1', 'm2', 'm3'].map((a) => start(net, a, 5));
    await connectAll(net, members);
    const chans = members.map((m) => m.ch);
    const all = ['m1', 'm2', 'm3'];
    expect(await net.runUntilAsync(() => agreed(chans, all), 10_000)).toBe(true);
    const view = chans[0]!.view!;
    // A heartbeat of m3's predecessor (incarnation 4), e.g. delayed in a queue: dropped and counted.
    const heartbeat = encodeFrame('g', 'heartbeat', { view: { ...view.id }, coordinator: false });
    net.send('m3', '*', heartbeat, 4);
    await net.runAsync(10);
    for (const c of chans.slice(0, 2)) {
      expect(c.stats.membership!.staleFrames).toBe(1);
      expect(c.stats.membership!.restarts).toBe(0);
    }
    await net.runAsync(5000);
    expect(agreed(chans, all)).toBe(true);
    expect(chans[0]!.view!.id).toEqual(view.id);

    // A newer one (6) means m3 restarted: its incarnation 5 is excluded at once, without a failure timeout.
    net.send('m3', '*', heartbeat, 6);
    const rest = chans.slice(0, 2);
    expect(await net.runUntilAsync(() => agreed(rest, ['m1', 'm2']), 500)).toBe(true);
  });
});
