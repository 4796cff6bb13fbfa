/**
 * Frames larger than a datagram (src/group/frame-wire.ts): cut into frame_fragment pieces and rebuilt
 * per sender and incarnation; a lost piece loses the frame (its round repeats it), never corrupts one.
 */
import { describe, expect, it } from 'vitest';
import { FrameWire } from '../../../src/group/frame-wire.js';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import type { Frame, InstallView } from '../../../src/group/wire.js';

function bigInstall(n: number): InstallView {
  const members = Array.from({ length: n }, (_, i) => `10.77.0.${i + 1}:45566`);
  return {
    view: {
      id: { coordinator: members[0]!, counter: 9 },
      members,
      incarnations: members.map((_, i) => 2 ** 40 + i),
    },
    flush_ids: [`${members[0]}/3`],
    cut: members.map((sender, i) => ({ sender, seq: 1000 + i })),
  };
}

function pair(net: SimNetwork) {
  const got: Array<{ from: string; frame: Frame; incarnation: number }> = [];
  const a = new FrameWire(net.endpoint('a', 3), 'g', () => {});
  const b = new FrameWire(net.endpoint('b'), 'g', (from, frame, incarnation) =>
    got.push({ from, frame, incarnation }),
  );
  return { a, b, got };
}

describe('FrameWire fragmentation', () => {
  it('a 200-member install frame crosses 1400-byte datagrams intact', () => {
    const net = new SimNetwork({ seed: 1, link: { delay: 1, jitter: 3 } }); // pieces reorder
    const { a, b, got } = pair(net);
    const body = bigInstall(200);
    a.unicast('b', 'install', body);
    a.multicast('install', body);
    net.run(20);
    expect(a.stats.fragmented).toBe(2);
    expect(net.stats.sent).toBeGreaterThan(2 * 5);
    expect(got).toHaveLength(2);
    for (const g of got) {
      expect(g.from).toBe('a');
      expect(g.incarnation).toBe(3);
      expect(g.frame.kind).toBe('install');
      expect(g.frame.body).toEqual(body);
    }
    expect(b.stats.reassembled).toBe(2);
  });

  it('a lost piece loses the frame; the next repetition gets through', () => {
    const net = new SimNetwork({ seed: 2, link: { delay: 1 } });
    const { a, got } = pair(net);
    let n = 0;
    net.onSend = () => {
      n++;
    };
    net.setLink('a', 'b', { loss: 1 });
    a.unicast('b', 'install', bigInstall(100));
    net.run(10);
    expect(got).toHaveLength(0);
    net.setLink('a', 'b', { loss: 0 });
    a.unicast('b', 'install', bigInstall(100));
    net.run(10);
    expect(n).toBeGreaterThan(2);
    expect(got).toHaveLength(1);
  });

  it('small frames are not cut', () => {
    const net = new SimNetwork({ seed: 3 });
    const { a, got } = pair(net);
    a.unicast('b', 'install', bigInstall(3));
    net.run(5);
    expect(a.stats.fragmented).toBe(0);
    expect(got[0]?.frame.kind).toBe('install');
  });
});
