/**
 * The UDP transport between real network namespaces (test/netlab): multicast reaches every member over
 * a bridge, unicast reaches one, bundling packs small payloads, nftables loss and partitions act as
 * expected. Skips where namespaces cannot be made (not root, no `ip`).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { labSupport, type MemberProcess, NetLab, nftAvailable } from '../../netlab/lab.js';

interface Stream {
  received: number;
  gaps: number;
  outOfOrder: number;
}

const N = 4;
const support = labSupport();

describe.skipIf(!support.ok)('UDP transport in the namespace lab', () => {
  let lab: NetLab;
  const members: MemberProcess[] = [];
  const addr: string[] = [];

  beforeAll(async () => {
    lab = await NetLab.up(N);
    const started = await Promise.all(
      Array.from({ length: N }, (_, k) =>
        lab.member(k + 1, {
          role: 'transport',
          transport: {
            bindAddress: lab.ip(k + 1),
            multicast: { group: '239.77.0.1', port: 45588, interface: lab.ip(k + 1), loopback: false },
          },
        }),
      ),
    );
    for (const m of started) {
      members.push(m);
      addr.push(String(m.events[0]!.address));
    }
  });

  afterAll(async () => {
    await lab?.down();
  });

  beforeEach(async () => {
    await Promise.all(members.map((m) => m.request({ cmd: 'reset' }, 'reset')));
  });

  /** Streams seen by member i (1-based), keyed "<from>/m" or "<from>/u". */
  async function streams(i: number): Promise<Record<string, Stream>> {
    const e = await members[i - 1]!.request({ cmd: 'stats' }, 'stats');
    return e.streams as Record<string, Stream>;
  }

  /** Member i's stream `key`, polled until it holds `n` payloads (busy CI machines lag) or 5 s pass. */
  async function streamWith(i: number, key: string, n: number): Promise<Stream | undefined> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const s = (await streams(i))[key];
      if ((s && s.received >= n) || Date.now() > deadline) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function send(i: number, cmd: Record<string, unknown>) {
    const e = await members[i - 1]!.request({ cmd: 'send', ...cmd }, 'sent');
    await new Promise((r) => setTimeout(r, 200)); // let the last datagrams land
    return e.stats as { datagramsSent: number; payloadsSent: number };
  }

  it('multicasts to every other member, in order, bundled', async () => {
    const stats = await send(1, { count: 2000, size: 64 });
    expect(stats.payloadsSent).toBe(2000);
    // 21 payloads of 64 B fit a 1472-byte datagram (with the sender's address and incarnation); a flush
    // at the end of an event-loop turn may leave a datagram part-full
    expect(stats.datagramsSent).toBeLessThanOrEqual(Math.ceil(2000 / 19));
    for (let i = 2; i <= N; i++) {
      expect(await streamWith(i, `${addr[0]}/m`, 2000)).toMatchObject({
        received: 2000,
        gaps: 0,
        outOfOrder: 0,
      });
    }
    expect((await streams(1))[`${addr[0]}/m`]).toBeUndefined();
  });

  it('unicasts to one member only', async () => {
    await send(2, { to: addr[2], count: 300, size: 1000 });
    expect(await streamWith(3, `${addr[1]}/u`, 300)).toMatchObject({ received: 300, gaps: 0 });
    expect(Object.keys(await streams(4))).toEqual([]);
    expect(Object.keys(await streams(1))).toEqual([]);
  });

  it.skipIf(!nftAvailable())('loses packets where nftables drops them, and only there', async () => {
    await lab.loss(4, 50, 'in');
    try {
      // 64 B payloads, 22 per datagram: ~182 datagrams, each dropped with p = 0.5 at member 4
      await send(1, { count: 4000, size: 64 });
      expect((await streamWith(2, `${addr[0]}/m`, 4000))!.received).toBe(4000);
      const at4 = (await streams(4))[`${addr[0]}/m`]!;
      expect(at4.received).toBeGreaterThan(0);
      expect(at4.received).toBeLessThan(4000 * 0.8);
      expect(at4.gaps).toBeGreaterThan(0);
      expect(at4.received + at4.gaps).toBeLessThanOrEqual(4000); // trailing losses are not gaps yet
      expect(await lab.counters()).toMatch(/packets [1-9]/);
    } finally {
      await lab.clear();
    }
  });

  it('does not cross a partition, and does again once healed', async () => {
    await lab.partition([1, 2], [3, 4]);
    try {
      await send(1, { count: 50, size: 200 });
      expect((await streamWith(2, `${addr[0]}/m`, 50))!.received).toBe(50);
      expect((await streams(3))[`${addr[0]}/m`]).toBeUndefined();
      expect((await streams(4))[`${addr[0]}/m`]).toBeUndefined();
    } finally {
      await lab.heal();
    }
    await send(1, { count: 50, size: 200 });
    expect((await streamWith(3, `${addr[0]}/m`, 50))!.received).toBe(50);
  });

  it('takes a burst of 20,000 payloads without socket overruns (4 MiB receive buffers)', async () => {
    await send(1, { count: 20_000, size: 64 });
    expect((await streamWith(2, `${addr[0]}/m`, 20_000))!.received).toBe(20_000);
    expect((await lab.udpCounters(2)).RcvbufErrors).toBe(0);
  });
});
