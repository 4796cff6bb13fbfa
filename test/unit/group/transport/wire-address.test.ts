import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAddress, parseAddress, tryParseAddress } from '../../../../src/group/transport/address.js';
import { varintSize, WireReader, writeVarint } from '../../../../src/group/transport/wire.js';
import { isBlazeError } from '../../../../src/util/errors.js';

describe('varints', () => {
  it('round-trip every safe integer with the size they announce', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const buf = new Uint8Array(10);
        const end = writeVarint(buf, 0, v);
        expect(end).toBe(varintSize(v));
        const r = new WireReader(buf, 0, end);
        expect(r.readVarint()).toBe(v);
        expect(r.pos).toBe(end);
      }),
    );
  });

  it('reports truncated and over-long varints as -1', () => {
    expect(new WireReader(Uint8Array.of(0x80)).readVarint()).toBe(-1);
    expect(new WireReader(new Uint8Array(10).fill(0xff)).readVarint()).toBe(-1);
    // 2^56: terminated, but beyond 53 bits
    expect(
      new WireReader(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)).readVarint(),
    ).toBe(-1);
  });

  it('skips a 64-bit unknown varint field exactly', () => {
    const r = new WireReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x2a));
    expect(r.skip(0)).toBe(true);
    expect(r.pos).toBe(10);
  });
});

describe('member addresses', () => {
  it('format and parse IPv4 and IPv6', () => {
    expect(formatAddress('10.0.0.1', 7)).toBe('10.0.0.1:7');
    expect(formatAddress('::1', 7)).toBe('[::1]:7');
    expect(parseAddress('10.0.0.1:7')).toEqual({ host: '10.0.0.1', port: 7, family: 4 });
    expect(parseAddress('[::1]:65535')).toEqual({ host: '::1', port: 65535, family: 6 });
  });

  it('refuse names, port 0, out-of-range ports and bare IPv6', () => {
    for (const bad of [
      'localhost:1',
      '10.0.0.1:0',
      '10.0.0.1:65536',
      '::1:5',
      '10.0.0.1',
      ':5',
      '1.2.3.4:5x',
    ]) {
      expect(tryParseAddress(bad), bad).toBeUndefined();
    }
    try {
      parseAddress('nope');
      expect.unreachable();
    } catch (e) {
      expect(isBlazeError(e) && e.code).toBe('BAD_REQUEST');
    }
  });
});
