import { describe, expect, it } from 'vitest';
import type { Digest } from '../../../src/group/reliable/types.js';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import type { View } from '../../../src/group/view.js';
import { bySender, payload, range, staticGroup, text } from './helpers.js';

/**
 * The messages a receiver keeps until stable live as bytes in its PayloadRing: when their sender is gone,
 * the flush must still get them, byte for byte, to the members that missed them, from whoever holds them.
 */
describe('NACK: members answer for a departed sender from the bytes they kept', () => {
  it('a crashed sender its messages reach the member that missed them, through the flush', () => {
    const net = new SimNetwork({ seed: 11, link: { delay: 1 } });
    const [m1, m2, m3] = staticGroup(net, 3);
    net.setLink('m1', 'm3', { loss: 1 });
    // Sizes vary so that the kept ring grows and wraps (4 KiB first, then doubling).
    const big = (i: number) => {
      const tag = payload('m1', i);
      const out = new Uint8Array(tag.length + 1 + ((i * 37) % 700));
      out.set(tag, 0);
      out[tag.length] = 0x20; // text() of the tag part stays parseable by bySender: "m1:i <filler>"
      out.fill(i & 0xff, tag.length + 1);
      return out;
    };
    for (let i = 1; i <= 60; i++) expect(m1!.protocol.multicast(big(i))).toBe(true);
    net.run(20);
    expect(m2!.deliveries.length).toBe(60);
    expect(m3!.deliveries.length).toBe(0);
    net.crash('m1');
    m1!.protocol.close();

    const survivors = ['m2', 'm3'];
    const digests = [m2!, m3!].map((m) => m.protocol.prepare(survivors));
    const cut: Digest = new Map();
    for (const d of digests) for (const [s, n] of d) cut.set(s, Math.max(cut.get(s) ?? 0, n));
    expect(cut.get('m1')).toBe(60);
    const view: View = { id: { coordinator: 'm2', counter: 2 }, members: survivors };
    let done = 0;
    for (const m of [m2!, m3!]) m.protocol.install(view, cut, () => done++);
    expect(net.runUntil(() => done === 2, 5_000)).toBe(true);

    const got = m3!.deliveries.filter((d) => d.sender === 'm1');
    expect(
      bySender(got.map((d) => ({ ...d, payload: d.payload.subarray(0, d.payload.indexOf(0x20)) }))),
    ).toEqual(new Map([['m1', range(1, 60)]]));
    for (const [k, d] of got.entries()) expect(Buffer.compare(d.payload, big(k + 1))).toBe(0);
    expect(text(got[0]!.payload).startsWith('m1:1 ')).toBe(true);
    expect(m2!.protocol.stats.retransmittedForOthers).toBeGreaterThanOrEqual(60);
  });
});
