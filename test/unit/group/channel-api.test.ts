import { describe, expect, it } from 'vitest';
import type { Channel } from '../../../src/group/channel.js';
import { createChannel, type GroupMessage, LoopbackHub } from '../../../src/group/index.js';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import { agreed, collector, startGroup } from './channel-helpers.js';
import { range } from './helpers.js';

const LINK = { loss: 0.03, delay: 1, jitter: 2, duplicate: 0.01 };

async function group(seed: number, n: number, opts = {}): Promise<{ net: SimNetwork; chans: Channel[] }> {
  const net = new SimNetwork({ seed, link: LINK });
  const chans = await startGroup(net, n, opts);
  await net.runUntilAsync(
    () =>
      agreed(
        chans,
        chans.map((c) => c.localAddress),
      ),
    20_000,
  );
  return { net, chans };
}

function drain(r: AsyncIterable<GroupMessage>, into: GroupMessage[]): void {
  (async () => {
    for await (const m of r) into.push(m);
  })();
}

describe('channel API', () => {
  it('send(member) reaches only that member, in order; strings round-trip', async () => {
    const { net, chans } = await group(61, 3);
    const got = chans.map(collector);
    for (let i = 1; i <= 200; i++) void chans[0]!.send('m2', `m1:${i}`);
    expect(await net.runUntilAsync(() => got[1]!.get('m1')?.length === 200, 10_000)).toBe(true);
    await net.runAsync(500);
    expect(got[1]!.get('m1')).toEqual(range(1, 200));
    expect(got[2]!.size).toBe(0);
    expect(got[0]!.size).toBe(0);
  });

  it('named inboxes: messages to (member, name) go only there', async () => {
    const { net, chans } = await group(67, 3);
    const main = chans.map(collector);
    const a2: GroupMessage[] = [];
    const b2: GroupMessage[] = [];
    const a3: GroupMessage[] = [];
    drain(chans[1]!.inbox('a'), a2);
    drain(chans[1]!.inbox('b'), b2);
    drain(chans[2]!.inbox('a'), a3);
    const outA = chans[0]!.inbox('a');
    for (let i = 0; i < 50; i++) void outA.send('m2', `a-${i}`);
    void chans[0]!.inbox('b').send('m2', 'b-0');
    expect(await net.runUntilAsync(() => a2.length === 50 && b2.length === 1, 10_000)).toBe(true);
    await net.runAsync(500);
    expect(a2.map((m) => m.text())).toEqual(range(0, 49).map((i) => `a-${i}`));
    expect(a2.every((m) => m.kind === 'inbox' && m.name === 'a' && m.from === 'm1')).toBe(true);
    expect(b2.map((m) => m.text())).toEqual(['b-0']);
    expect(a3).toEqual([]);
    for (const g of main) expect(g.size).toBe(0);
  });

  it('queue: every message is taken by exactly one listener, spread round robin', async () => {
    const { net, chans } = await group(71, 4);
    const taken: GroupMessage[][] = chans.map(() => []);
    for (const i of [1, 2, 3]) drain(chans[i]!.queue('jobs').listen(), taken[i]!);
    // Listener announcements travel by reliable multicast.
    expect(await net.runUntilAsync(() => chans[0]!.queue('jobs').listeners().length === 3, 5_000)).toBe(true);
    let acked = 0;
    for (let i = 0; i < 300; i++) {
      chans[0]!
        .queue('jobs')
        .send(`job-${i}`)
        .then(() => acked++);
    }
    expect(await net.runUntilAsync(() => acked === 300, 20_000)).toBe(true);
    await net.runAsync(1000);
    const all = taken.flat().map((m) => m.text());
    expect(all.length).toBe(300);
    expect(new Set(all).size).toBe(300);
    for (const i of [1, 2, 3]) expect(taken[i]!.length).toBe(100);
    expect(taken[0]).toEqual([]);
  });

  it('queue: a listener leaving gives back what it did not take; those go to another listener', async () => {
    const { net, chans } = await group(73, 3);
    const fast: GroupMessage[] = [];
    drain(chans[2]!.queue('q').listen(), fast);
    // m2 listens but never takes anything.
    const lazy = chans[1]!.queue('q').listen();
    expect(await net.runUntilAsync(() => chans[0]!.queue('q').listeners().length === 2, 5_000)).toBe(true);
    let acked = 0;
    for (let i = 0; i < 100; i++) {
      chans[0]!
        .queue('q')
        .send(`${i}`)
        .then(() => acked++);
    }
    // Round robin: half wait, untaken, at m2; the other half were taken (acked) by m3.
    expect(await net.runUntilAsync(() => lazy.size === 50 && acked === 50, 10_000)).toBe(true);
    void chans[1]!.close();
    expect(await net.runUntilAsync(() => acked === 100, 20_000)).toBe(true);
    expect(fast.map((m) => Number(m.text())).sort((a, b) => a - b)).toEqual(range(0, 99));
  });

  it('a message larger than a datagram is fragmented and reassembled', async () => {
    const { net, chans } = await group(79, 3);
    const got: GroupMessage[] = [];
    drain(chans[2]!.messages, got);
    const big = new Uint8Array(50_000).map((_, i) => (i * 7) & 0xff);
    void chans[0]!.broadcast(big);
    void chans[0]!.send('m3', big.subarray(0, 5000));
    expect(await net.runUntilAsync(() => got.length === 2, 10_000)).toBe(true);
    // Multicast and unicast are separate FIFO streams: no order between the two.
    // Bytes, not types: bodies arrive as Buffer views (Uint8Array subclass).
    expect(Buffer.from(got.find((m) => m.kind === 'broadcast')!.data).equals(big)).toBe(true);
    expect(Buffer.from(got.find((m) => m.kind === 'direct')!.data).equals(big.subarray(0, 5000))).toBe(true);
  });

  it('receive back-pressure: a member that does not read stalls the senders, and nothing is lost', async () => {
    const { net, chans } = await group(83, 3, { receiveBuffer: 50, nack: { window: 100 } });
    const readers = [collector(chans[0]!), collector(chans[1]!)];
    let sent = 0;
    (async () => {
      for (let i = 1; i <= 1000; i++) {
        await chans[0]!.broadcast(`m1:${i}`);
        sent = i;
      }
    })();
    await net.runAsync(5_000);
    // m3 reads nothing: its buffer fills, its deliveries pause, m1 runs out of credit.
    expect(sent).toBeLessThan(300);
    expect(chans[2]!.messages.size).toBeLessThanOrEqual(50 + 100);
    const late = collector(chans[2]!);
    expect(
      await net.runUntilAsync(() => [...readers, late].every((g) => g.get('m1')?.length === 1000), 60_000),
    ).toBe(true);
    for (const g of [...readers, late]) expect(g.get('m1')).toEqual(range(1, 1000));
  });

  it('runs over the in-process loopback transport on real timers', async () => {
    const hub = new LoopbackHub();
    const timings = { heartbeatInterval: 50, discoveryTimeout: 100, joinRetry: 30, mergeDelay: 100 };
    const chans = [1, 2, 3].map(() =>
      createChannel({ name: 'lb', transport: hub.createTransport(), membership: timings }),
    );
    await chans[0]!.connect();
    await Promise.all(chans.slice(1).map((c) => c.connect()));
    const deadline = Date.now() + 5_000;
    while (
      !agreed(
        chans,
        chans.map((c) => c.localAddress),
      ) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(
      agreed(
        chans,
        chans.map((c) => c.localAddress),
      ),
    ).toBe(true);
    const got = chans.map(collector);
    await Promise.all(
      chans.map(async (c) => {
        for (let i = 1; i <= 200; i++) await c.broadcast(`${c.localAddress}:${i}`);
      }),
    );
    while (
      got.some((g) => chans.some((c) => g.get(c.localAddress)?.length !== 200)) &&
      Date.now() < deadline + 5_000
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const g of got) for (const c of chans) expect(g.get(c.localAddress)).toEqual(range(1, 200));
    await Promise.all(chans.map((c) => c.close()));
  });
});
