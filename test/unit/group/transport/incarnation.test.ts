/**
 * The incarnation fields on the wire (src/group/incarnation.ts): blaze.v1.Bundle.incarnation, written by
 * hand after the payloads, and blaze.v1.View.incarnations, both against protobufjs (the reference).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareIncarnation, newIncarnation } from '../../../../src/group/incarnation.js';
import {
  BundleWriter,
  decodeBundle,
  encodeIncarnationTrailer,
  encodeSenderHeader,
  maxPayloadFor,
} from '../../../../src/group/transport/bundle.js';
import { fromViewMsg, incarnationIn, toViewMsg } from '../../../../src/group/view.js';
import { decodeFrame, encodeFrame } from '../../../../src/group/wire.js';
import { loadProto } from '../../../../src/util/proto.js';

const Bundle = loadProto('blaze/v1/transport.proto').lookupType('blaze.v1.Bundle');
const incarnation = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const address = fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => `${ip}:${port}`);
const payloads = fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 10 });

function build(sender: string, inc: number, ps: Uint8Array[]): Uint8Array {
  const w = new BundleWriter(encodeSenderHeader(sender), 65_000, 65_000, encodeIncarnationTrailer(inc));
  for (const p of ps) w.add(p);
  return w.take()!;
}

describe('incarnation on the wire', () => {
  it('Bundle: byte-identical to protobufjs both ways, the incarnation after the payloads', () => {
    fc.assert(
      fc.property(address, incarnation, payloads, (sender, inc, ps) => {
        const ours = build(sender, inc, ps);
        const theirs = Bundle.encode(Bundle.fromObject({ sender, payloads: ps, incarnation: inc })).finish();
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
        const back = Bundle.toObject(Bundle.decode(ours), { longs: Number }) as { incarnation?: number };
        expect(back.incarnation ?? 0).toBe(inc);
        const d = decodeBundle(theirs);
        expect(d?.incarnation).toBe(inc);
        expect(d?.sender).toBe(sender);
        expect(d?.payloads).toHaveLength(ps.length);
      }),
    );
  });

  it('Bundle: golden bytes, and a bundle without the field decodes as incarnation 0', () => {
    const bytes = build('1.2.3.4:5', 300, [Uint8Array.of(0xaa)]);
    // 0a 09 "1.2.3.4:5"  12 01 aa  18 ac 02
    expect(Buffer.from(bytes).toString('hex')).toBe('0a09312e322e332e343a351201aa18ac02');
    expect(decodeBundle(build('1.2.3.4:5', 0, [Uint8Array.of(1)]))?.incarnation).toBe(0);
  });

  it('Bundle: the trailer is counted when filling a datagram to its limit', () => {
    const header = encodeSenderHeader('10.0.0.1:7800');
    const trailer = encodeIncarnationTrailer(newIncarnation());
    const max = maxPayloadFor(header, 1472, trailer);
    const w = new BundleWriter(header, 1472, 1472, trailer);
    expect(w.fits(max)).toBe(true);
    expect(w.fits(max + 1)).toBe(false);
    w.add(new Uint8Array(max));
    expect(w.take()!.length).toBe(1472);
  });

  it('View.incarnations: round trip through an install frame; a length mismatch drops the view', () => {
    const view = {
      id: { coordinator: 'a:1', counter: 3 },
      members: ['a:1', 'b:2'],
      incarnations: [7, 2 ** 52],
    };
    const f = decodeFrame(
      'g',
      encodeFrame('g', 'install', { view: toViewMsg(view), flush_ids: [], cut: [] }),
    );
    expect(f?.kind).toBe('install');
    if (f?.kind !== 'install') return;
    const back = fromViewMsg(f.body.view)!;
    expect(back).toEqual(view);
    expect(incarnationIn(back, 'b:2')).toBe(2 ** 52);
    expect(incarnationIn(back, 'c:3')).toBeUndefined();
    expect(fromViewMsg({ ...toViewMsg(view), incarnations: [7] })).toBeUndefined();
    // A view without incarnations (not known) stays valid and filters nothing.
    const bare = fromViewMsg({ id: view.id, members: view.members, incarnations: [] })!;
    expect(incarnationIn(bare, 'a:1')).toBeUndefined();
  });

  it('newer incarnations compare greater; values stay exact in a JS number', () => {
    const a = newIncarnation(1_700_000_000_000);
    const b = newIncarnation(1_700_000_000_001);
    expect(compareIncarnation(a, b)).toBe('restarted');
    expect(compareIncarnation(b, a)).toBe('stale');
    expect(compareIncarnation(a, a)).toBe('same');
    expect(Number.isSafeInteger(newIncarnation(Date.UTC(2100, 0, 1)))).toBe(true);
  });
});
