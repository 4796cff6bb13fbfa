import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import { decodeFrame, encodeFrame } from '../../../src/group/wire.js';

function trace(seed: number): string[] {
  const net = new SimNetwork({
    seed,
    link: { loss: 0.2, delay: 2, jitter: 5, duplicate: 0.1, reorder: 0.1 },
  });
  const eps = ['a', 'b', 'c'].map((a) => net.endpoint(a));
  const log: string[] = [];
  for (const ep of eps)
    ep.onMessage((from, p) => log.push(`${net.clock.now().toFixed(3)} ${from}>${ep.localAddress} ${p[0]}`));
  for (let i = 0; i < 100; i++) {
    eps[i % 3]!.multicast(new Uint8Array([i]));
    eps[i % 3]!.unicast('c', new Uint8Array([i]));
    net.run(1);
  }
  net.run(100);
  return log;
}

describe('simulated network', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(trace(1)).toEqual(trace(1));
    expect(trace(1)).not.toEqual(trace(2));
  });

  it('applies loss, duplication and reordering at about the configured rates', () => {
    const net = new SimNetwork({ seed: 3, link: { loss: 0.1, duplicate: 0.05, delay: 1, jitter: 10 } });
    const a = net.endpoint('a');
    const b = net.endpoint('b');
    const got: number[] = [];
    b.onMessage((_f, p) => got.push(new DataView(p.buffer, p.byteOffset).getUint32(0)));
    for (let i = 0; i < 10_000; i++) {
      const p = new Uint8Array(4);
      new DataView(p.buffer).setUint32(0, i);
      a.unicast('b', p);
      net.run(0.1);
    }
    net.run(100);
    const unique = new Set(got).size;
    expect(unique / 10_000).toBeGreaterThan(0.87);
    expect(unique / 10_000).toBeLessThan(0.93);
    expect(got.length - unique).toBeGreaterThan(300);
    let inversions = 0;
    for (let i = 1; i < got.length; i++) if (got[i]! < got[i - 1]!) inversions++;
    expect(inversions).toBeGreaterThan(100);
  });

  it('partitions cut traffic between groups until healed; a crashed member is silent both ways', () => {
    const net = new SimNetwork({ seed: 4 });
    const eps = ['a', 'b', 'c'].map((x) => net.endpoint(x));
    const got = new Map<string, string[]>(eps.map((e) => [e.localAddress, []]));
    for (const e of eps) e.onMessage((from) => got.get(e.localAddress)!.push(from));
    net.partition(['a', 'b'], ['c']);
    eps[0]!.multicast(new Uint8Array([1]));
    net.run(10);
    expect(got.get('b')).toEqual(['a']);
    expect(got.get('c')).toEqual([]);
    net.heal();
    net.crash('b');
    eps[0]!.multicast(new Uint8Array([1]));
    eps[1]!.multicast(new Uint8Array([1]));
    net.run(10);
    expect(got.get('c')).toEqual(['a']);
    expect(got.get('b')).toEqual(['a']);
  });
});

describe('group frame codec', () => {
  it('round-trips frames, 64-bit seqs included, and ignores other groups', () => {
    const bytes = encodeFrame('g', 'data', { seq: 2 ** 40, view: 7, payload: new Uint8Array([1, 2, 3]) });
    const f = decodeFrame('g', bytes);
    expect(f?.kind).toBe('data');
    if (f?.kind !== 'data') return;
    expect(f.body.seq).toBe(2 ** 40);
    expect(f.body.view).toBe(7);
    expect([...f.body.payload]).toEqual([1, 2, 3]);
    expect(decodeFrame('other', bytes)).toBeUndefined();
  });

  it('never throws on garbage or truncated frames (fuzz)', () => {
    const valid = encodeFrame('g', 'install', {
      view: { id: { coordinator: 'a:1', counter: 3 }, members: ['a:1', 'b:2'] },
      flush_ids: ['a:1/1'],
      cut: [{ sender: 'a:1', seq: 10 }],
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(valid.length), (junk, cut) => {
        decodeFrame('g', junk);
        const truncated = decodeFrame('g', valid.subarray(0, cut));
        if (truncated) expect(typeof truncated.kind).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});
