/** Channels on the simulated network, driven by its virtual clock. */
import { type Channel, type ChannelOptions, createChannel } from '../../../src/group/channel.js';
import type { SimNetwork } from '../../../src/group/testing/sim-network.js';

export function simChannel(net: SimNetwork, address: string, opts: Partial<ChannelOptions> = {}): Channel {
  return createChannel({
    name: 'g',
    transport: net.endpoint(address),
    clock: net.clock,
    random: net.randomFor(address),
    ...opts,
  });
}

/** Starts members 50 ms apart (virtual) and runs until all connected. */
export async function startGroup(
  net: SimNetwork,
  n: number,
  opts: Partial<ChannelOptions> = {},
  prefix = 'm',
): Promise<Channel[]> {
  const chans: Channel[] = [];
  const connected: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const ch = simChannel(net, `${prefix}${i + 1}`, opts);
    chans.push(ch);
    ch.connect().then(() => {
      connected[i] = true;
    });
    await net.runAsync(50);
  }
  const ok = await net.runUntilAsync(() => connected.filter(Boolean).length === n, 30_000);
  if (!ok) throw new Error('group did not form');
  return chans;
}

/** True when every channel has installed the same view with exactly `members`. */
export function agreed(chans: readonly Channel[], members: readonly string[]): boolean {
  const first = chans[0]?.view;
  if (!first) return false;
  return chans.every(
    (c) =>
      c.view !== undefined &&
      c.view.id.coordinator === first.id.coordinator &&
      c.view.id.counter === first.id.counter &&
      c.view.members.length === members.length &&
      members.every((m) => c.view!.members.includes(m)),
  );
}

/** Resolves after `ms` of virtual time. */
export function sleep(net: SimNetwork, ms: number): Promise<void> {
  return new Promise((resolve) => net.clock.setTimer(ms, resolve));
}

/**
 * Broadcasts `${address}:${i}` for i = 1..n, waiting `every` ms (virtual) between sends (0: as fast as
 * flow control allows). `sent()` is how many broadcast calls were made so far.
 */
export function broadcaster(net: SimNetwork, ch: Channel, n: number, every = 0) {
  let calls = 0;
  let finished = false;
  const run = async () => {
    for (let i = 1; i <= n; i++) {
      calls = i;
      await ch.broadcast(`${ch.localAddress}:${i}`);
      if (every > 0) await sleep(net, every);
    }
    finished = true;
  };
  run().catch(() => {});
  return { calls: () => calls, finished: () => finished };
}

/** Consumes a channel's messages; per sender, the indexes received in order. */
export function collector(ch: Channel): Map<string, number[]> {
  const got = new Map<string, number[]>();
  (async () => {
    for await (const m of ch.messages) {
      const t = m.text();
      const sender = t.slice(0, t.lastIndexOf(':'));
      const idx = t.slice(t.lastIndexOf(':') + 1);
      if (sender !== m.from) throw new Error(`message of ${sender} delivered as from ${m.from}`);
      let list = got.get(m.from);
      if (!list) {
        list = [];
        got.set(m.from, list);
      }
      list.push(Number(idx));
    }
  })();
  return got;
}
