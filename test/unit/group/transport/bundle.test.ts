import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BundleWriter,
  decodeBundle,
  encodeSenderHeader,
  maxPayloadFor,
  payloadFrameSize,
} from '../../../../src/group/transport/bundle.js';
import { loadProto } from '../../../../src/util/proto.js';

const Bundle = loadProto('blaze/v1/transport.proto').lookupType('blaze.v1.Bundle');

function build(sender: string, payloads: Uint8Array[], maxDatagram = 65_000): Uint8Array {
  const w = new BundleWriter(encodeSenderHeader(sender), maxDatagram);
  for (const p of payloads) {
    expect(w.fits(p.length)).toBe(true);
    w.add(p);
  }
  return w.take()!;
}

const address = fc.tuple(fc.ipV4(), fc.integer({ min: 1, max: 65535 })).map(([ip, port]) => `${ip}:${port}`);
const payloads = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 20 });

describe('Bundle codec', () => {
  it('writes the golden bytes of blaze.v1.Bundle', () => {
    const bytes = build('1.2.3.4:5', [Uint8Array.of(0xaa), new Uint8Array(0)]);
    expect(Buffer.from(bytes).toString('hex')).toBe(
      // 0a 09 "1.2.3.4:5"  12 01 aa  12 00
      '0a09312e322e332e343a351201aa1200',
    );
  });

  it('is byte-identical to protobufjs both ways', () => {
    fc.assert(
      fc.property(address, payloads, (sender, ps) => {
        const ours = build(sender, ps);
        const theirs = Bundle.encode(Bundle.fromObject({ sender, payloads: ps })).finish();
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
        const back = Bundle.toObject(Bundle.decode(ours)) as { sender: string; payloads: Uint8Array[] };
        expect(back.sender).toBe(sender);
        expect(back.payloads.map((p) => Buffer.from(p).toString('hex'))).toEqual(
          ps.map((p) => Buffer.from(p).toString('hex')),
        );
      }),
    );
  });

  it('decodes what it encodes, payloads in order', () => {
    fc.assert(
      fc.property(address, payloads, (sender, ps) => {
        const d = decodeBundle(build(sender, ps));
        expect(d?.sender).toBe(sender);
        expect(d?.payloads.map((p) => [...p])).toEqual(ps.map((p) => [...p]));
      }),
    );
  });

  it('skips unknown fields of every wire type (forward compatibility)', () => {
    const known = build('10.0.0.1:7', [Uint8Array.of(1, 2)]);
    // field 3 varint 300, field 4 fixed64, field 5 fixed32, field 6 bytes "xy"
    const extra = Uint8Array.from([
      0x18,
      0xac,
      0x02,
      0x21,
      ...new Array(8).fill(7),
      0x2d,
      1,
      2,
      3,
      4,
      0x32,
      2,
      0x78,
      0x79,
    ]);
    const d = decodeBundle(Buffer.concat([extra, known]));
    expect(d?.sender).toBe('10.0.0.1:7');
    expect(d?.payloads.map((p) => [...p])).toEqual([[1, 2]]);
  });

  it('rejects bundles without sender, without payloads, or with a non-address sender', () => {
    expect(decodeBundle(Bundle.encode({ payloads: [Uint8Array.of(1)] }).finish())).toBeUndefined();
    expect(decodeBundle(Bundle.encode({ sender: '1.2.3.4:5' }).finish())).toBeUndefined();
    expect(
      decodeBundle(Bundle.encode({ sender: 'a b', payloads: [Uint8Array.of(1)] }).finish()),
    ).toBeUndefined();
    expect(
      decodeBundle(Bundle.encode({ sender: 'x'.repeat(65), payloads: [Uint8Array.of(1)] }).finish()),
    ).toBeUndefined();
    expect(decodeBundle(new Uint8Array(0))).toBeUndefined();
    // deprecated group wire type
    expect(decodeBundle(Uint8Array.of(0x1b, 0x1c))).toBeUndefined();
  });

  it('never throws on arbitrary bytes, and any result it returns is well-formed (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const d = decodeBundle(bytes);
        if (d) {
          expect(d.sender.length).toBeGreaterThan(0);
          expect(d.payloads.length).toBeGreaterThan(0);
          for (const p of d.payloads) expect(p.buffer).toBe(bytes.buffer);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws on truncated or bit-flipped real bundles (fuzz)', () => {
    fc.assert(
      fc.property(address, payloads, fc.nat(), fc.nat(), (sender, ps, cut, flip) => {
        const good = build(sender, ps);
        const truncated = good.subarray(0, cut % good.length);
        const d = decodeBundle(truncated);
        if (d) expect(d.payloads.length).toBeGreaterThan(0);
        const flipped = Uint8Array.from(good);
        flipped[flip % flipped.length]! ^= 1 << (flip % 8);
        decodeBundle(flipped);
      }),
      { numRuns: 2000 },
    );
  });

  it('fills a datagram exactly up to its limit', () => {
    const header = encodeSenderHeader('10.77.0.1:40000');
    const max = maxPayloadFor(header, 1472);
    expect(header.length + payloadFrameSize(max)).toBe(1472);
    expect(header.length + payloadFrameSize(max + 1)).toBeGreaterThan(1472);
    const w = new BundleWriter(header, 1472);
    expect(w.fits(max)).toBe(true);
    expect(w.fits(max + 1)).toBe(false);
    w.add(new Uint8Array(max));
    expect(w.fits(0)).toBe(false);
    expect(w.take()!.length).toBe(1472);
    expect(w.take()).toBeUndefined();
  });

  it('packs small payloads until the next one would not fit', () => {
    const header = encodeSenderHeader('10.77.0.1:40000');
    const w = new BundleWriter(header, 1472);
    let n = 0;
    while (w.fits(64)) {
      w.add(new Uint8Array(64).fill(n));
      n++;
    }
    expect(n).toBe(Math.floor((1472 - header.length) / payloadFrameSize(64)));
    const d = decodeBundle(w.take()!);
    expect(d?.payloads.length).toBe(n);
    expect(d?.payloads[n - 1]?.[0]).toBe(n - 1);
  });

  it('keeps small payloads within smallDatagram and lets large ones share big datagrams', () => {
    const header = encodeSenderHeader('10.77.0.1:40000');
    const w = new BundleWriter(header, 8832, 1472);
    // 1 KiB payloads are large (over 1472 / 4): eight share one datagram, IP-fragmented by the kernel.
    let n = 0;
    while (w.fits(1024)) {
      w.add(new Uint8Array(1024));
      n++;
    }
    expect(n).toBe(Math.floor((8832 - header.length) / payloadFrameSize(1024)));
    // A small payload never joins a datagram already beyond the small limit...
    expect(w.fits(64)).toBe(false);
    expect(w.take()!.length).toBeGreaterThan(1472);
    // ...and once one is in, the datagram stays within it, for large payloads too.
    w.add(new Uint8Array(64));
    expect(w.fits(1024)).toBe(true);
    w.add(new Uint8Array(1024));
    expect(w.fits(1024)).toBe(false);
    expect(w.take()!.length).toBeLessThanOrEqual(1472);
    expect(w.fits(8000)).toBe(true);
  });

  it('addParts writes the same bytes as add of the concatenation', () => {
    fc.assert(
      fc.property(address, fc.array(fc.tuple(payloads, payloads), { maxLength: 5 }), (sender, items) => {
        const header = encodeSenderHeader(sender);
        const a = new BundleWriter(header, 65_000);
        const b = new BundleWriter(header, 65_000);
        for (const [
          [head = new Uint8Array(0), body = new Uint8Array(0)],
          [tail = new Uint8Array(0)],
        ] of items) {
          a.add(Buffer.concat([head, body, tail]));
          b.addParts(head, body, tail);
        }
        expect(Buffer.from(b.take() ?? []).equals(Buffer.from(a.take() ?? []))).toBe(true);
      }),
    );
  });
});
