import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFragment, encodeFragment } from '../../../../src/group/frag/codec.js';
import { fragment } from '../../../../src/group/frag/fragment.js';
import { Reassembler } from '../../../../src/group/frag/reassembler.js';
import { loadProto } from '../../../../src/util/proto.js';

const FragmentType = loadProto('blaze/v1/transport.proto').lookupType('blaze.v1.Fragment');

/** Deterministic shuffle driven by fast-check's seed, so failures replay. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = items.slice();
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('Fragment codec', () => {
  it('is byte-compatible with protobufjs', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.uint8Array({ maxLength: 100 }), fc.nat(5), (msgId, data, extra) => {
        const count = 1 + extra;
        const f = { msgId, index: extra, count, totalSize: data.length + 1000, data };
        const ours = encodeFragment(f);
        const decoded = FragmentType.toObject(FragmentType.decode(ours), { longs: Number }) as Record<
          string,
          unknown
        >;
        expect(decoded.msg_id ?? 0).toBe(msgId);
        expect(decoded.index ?? 0).toBe(extra);
        expect(decoded.count).toBe(count);
        expect(decoded.total_size).toBe(data.length + 1000);
        const theirs = FragmentType.encode(
          FragmentType.fromObject({
            msg_id: msgId,
            index: extra,
            count,
            total_size: data.length + 1000,
            data,
          }),
        ).finish();
        // protobufjs omits proto3 defaults; our decoder takes both forms
        expect(decodeFragment(theirs)).toEqual({ ...f, data: expect.anything() });
        expect([...decodeFragment(theirs)!.data]).toEqual([...data]);
      }),
    );
  });

  it('rejects impossible fragments and never throws on garbage (fuzz)', () => {
    const enc = (o: Record<string, unknown>) => FragmentType.encode(FragmentType.fromObject(o)).finish();
    expect(decodeFragment(enc({ count: 0, total_size: 5, data: new Uint8Array(5) }))).toBeUndefined();
    expect(decodeFragment(enc({ index: 3, count: 3, total_size: 5 }))).toBeUndefined();
    expect(decodeFragment(enc({ count: 6, total_size: 5 }))).toBeUndefined();
    expect(decodeFragment(enc({ count: 1, total_size: 1, data: new Uint8Array(2) }))).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const f = decodeFragment(bytes);
        if (f) expect(f.index).toBeLessThan(f.count);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('fragment + Reassembler', () => {
  it('every fragment fits maxSize, and every but the last is full', () => {
    fc.assert(
      fc.property(
        fc.nat(20_000),
        fc.integer({ min: 40, max: 2000 }),
        fc.maxSafeNat(),
        (size, maxSize, id) => {
          const frags = fragment(id, new Uint8Array(size), maxSize);
          for (const f of frags) expect(f.length).toBeLessThanOrEqual(maxSize);
          const datas = frags.map((f) => decodeFragment(f)!.data.length);
          expect(datas.reduce((a, b) => a + b, 0)).toBe(size);
          for (const d of datas.slice(0, -1)) expect(d).toBe(datas[0]);
        },
      ),
    );
  });

  it('reassembles interleaved messages from several senders in any arrival order', () => {
    const message = fc.record({ sender: fc.constantFrom('a:1', 'b:2', 'c:3'), size: fc.nat(6000) });
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 12 }),
        fc.integer({ min: 50, max: 1500 }),
        fc.nat(),
        (msgs, max, seed) => {
          const r = new Reassembler();
          const expected = new Map<string, Uint8Array>();
          const pieces: { sender: string; bytes: Uint8Array }[] = [];
          msgs.forEach((m, id) => {
            const payload = Uint8Array.from({ length: m.size }, (_, i) => (i * 31 + id) & 0xff);
            expected.set(`${m.sender}/${id}`, payload);
            for (const bytes of fragment(id, payload, max)) pieces.push({ sender: m.sender, bytes });
          });
          const done = new Map<string, Uint8Array>();
          for (const p of shuffle(pieces, seed)) {
            const whole = r.add(p.sender, p.bytes);
            if (whole) {
              const id = decodeFragment(p.bytes)!.msgId;
              const key = `${p.sender}/${id}`;
              expect(done.has(key)).toBe(false);
              done.set(key, whole);
            }
          }
          expect(done.size).toBe(expected.size);
          for (const [k, v] of expected) expect(Buffer.from(done.get(k)!).equals(Buffer.from(v))).toBe(true);
          expect(r.partialCount).toBe(0);
          expect(r.bufferedBytes).toBe(0);
          expect(r.stats).toMatchObject({ rejected: 0, evicted: 0, duplicates: 0 });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps the same msgId of different senders apart', () => {
    const r = new Reassembler();
    const [a0, a1] = fragment(7, new Uint8Array(100).fill(1), 60);
    const [b0, b1] = fragment(7, new Uint8Array(100).fill(2), 60);
    expect(r.add('a:1', a0!)).toBeUndefined();
    expect(r.add('b:1', b1!)).toBeUndefined();
    expect(r.add('a:1', a1!)?.every((x) => x === 1)).toBe(true);
    expect(r.add('b:1', b0!)?.every((x) => x === 2)).toBe(true);
  });

  it('stays within its limits: message size, partial count, buffered bytes', () => {
    const r = new Reassembler({ maxMessageSize: 1000, maxPartialMessages: 2, maxBufferedBytes: 1000 });
    expect(r.add('a:1', fragment(1, new Uint8Array(1001), 200)[0]!)).toBeUndefined();
    expect(r.stats.rejected).toBe(1);
    for (let id = 0; id < 5; id++) r.add('a:1', fragment(id, new Uint8Array(500), 200)[0]!);
    expect(r.partialCount).toBe(2);
    expect(r.stats.evicted).toBe(3);
    expect(r.bufferedBytes).toBeLessThanOrEqual(1000);
    r.dropSender('a:1');
    expect(r.partialCount).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it('counts duplicates and rejects fragments inconsistent with their message', () => {
    const r = new Reassembler();
    const frags = fragment(1, new Uint8Array(300), 100);
    r.add('a:1', frags[0]!);
    r.add('a:1', frags[0]!);
    expect(r.stats.duplicates).toBe(1);
    const other = fragment(1, new Uint8Array(400), 100);
    r.add('a:1', other[1]!); // same id, different total size
    expect(r.stats.rejected).toBe(1);
    expect(r.add('a:1', Uint8Array.of(0xff))).toBeUndefined();
    expect(r.stats.rejected).toBe(2);
  });

  it('passes a single-fragment message through without buffering', () => {
    const r = new Reassembler();
    const [only] = fragment(3, Uint8Array.of(1, 2, 3), 100);
    expect([...r.add('a:1', only!)!]).toEqual([1, 2, 3]);
    expect([...r.add('a:1', fragment(4, new Uint8Array(0), 100)[0]!)!]).toEqual([]);
    expect(r.partialCount).toBe(0);
  });

  it('refuses a maxSize with no room for data', () => {
    expect(() => fragment(1, new Uint8Array(10), 8)).toThrow();
  });
});
