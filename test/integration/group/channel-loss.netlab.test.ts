/**
 * Issue 7, "How it is shown": 5 members in network namespaces, nftables dropping 5 % of the UDP packets
 * each member receives, 100,000 messages from four senders (25,000 each): every member delivers every
 * message exactly once, in per-sender order, and all members hold the same digest (count + SHA-1 of the
 * payloads) for every sender. Members are separate processes on real sockets. Takes ~20-40 s here
 * (2 cores shared by 5 member processes); skips without root, `ip` or `nft`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labSupport, NetLab, nftAvailable } from '../../netlab/lab.js';
import { type ChannelMember, digestsWhen, startChannel, waitForView } from './channel-lab.js';

const N = 5;
const SENDERS = 4;
const PER_SENDER = 25_000;

describe.skipIf(!labSupport().ok || !nftAvailable())('group channel under 5 % loss (namespace lab)', () => {
  let lab: NetLab;
  const members: ChannelMember[] = [];

  beforeAll(async () => {
    lab = await NetLab.up(N);
    // Started one by one so that the first founds the group and the others join it.
    for (let i = 1; i <= N; i++) members.push(await startChannel(lab, i, { port: 45610 }));
    const all = members.map((m) => m.address);
    await Promise.all(members.map((m) => waitForView(m, all, 20_000)));
  }, 90_000);

  afterAll(async () => {
    await lab?.down();
  });

  it('delivers 100,000 messages from 4 senders to all 5 members exactly once, in per-sender order', async () => {
    for (let i = 1; i <= N; i++) await lab.loss(i, 5, 'in');
    const senders = members.slice(0, SENDERS);
    await Promise.all(
      senders.map((s) => s.proc.request({ cmd: 'send', count: PER_SENDER, size: 100 }, 'sent', 120_000)),
    );
    const complete = (d: Record<string, { count: number }>) =>
      senders.every((s) => d[s.address]?.count === PER_SENDER);
    const digests = await Promise.all(members.map((m) => digestsWhen(m, complete, 60_000)));
    const counters = await lab.counters();
    await lab.clear();

    expect(counters).toMatch(/packets [1-9]/); // the loss rules did drop packets
    const reference = digests[0]!;
    for (const [k, d] of digests.entries()) {
      for (const s of senders) {
        const got = d[s.address];
        expect(got, `member ${k + 1}, sender ${s.address}`).toMatchObject({
          count: PER_SENDER,
          first: 0,
          last: PER_SENDER - 1,
          ordered: true,
        });
        expect(got!.sha1).toBe(reference[s.address]!.sha1);
      }
    }
  }, 180_000);
});
