import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAddress, parseSendAddress } from '../../../src/core/address.js';
import { isBlazeError } from '../../../src/util/errors.js';

describe('parseAddress', () => {
  it('parses the four kinds', () => {
    for (const kind of ['queue', 'topic', 'temp-queue', 'temp-topic'] as const) {
      const a = parseAddress(`${kind}://a.b`);
      expect(a).toEqual({ kind, name: 'a.b', canonical: `${kind}://a.b`, wildcard: false });
    }
  });

  it.each([
    ['', 'no scheme'],
    ['orders', 'no scheme'],
    ['queue://', 'empty name'],
    ['fifo://x', 'unknown kind'],
    ['queue://a,b', 'comma'],
    ['queue://a.*', 'wildcard in queue'],
    ['queue://a>', 'wildcard char in queue'],
    ['topic://a.*', 'wildcard without allowWildcards'],
    ['temp-topic://a.>', 'wildcard in temp'],
  ])('rejects %j (%s)', (text) => {
    expect(() => parseAddress(text)).toThrowError(expect.objectContaining({ code: 'INVALID_ADDRESS' }));
  });

  it('accepts topic wildcards only as whole levels, > last', () => {
    expect(parseAddress('topic://a.*.c', { allowWildcards: true }).wildcard).toBe(true);
    expect(parseAddress('topic://a.>', { allowWildcards: true }).wildcard).toBe(true);
    expect(parseAddress('topic://>', { allowWildcards: true }).wildcard).toBe(true);
    for (const bad of ['topic://a.>.c', 'topic://a*.b', 'topic://a.b>', 'queue://a.*']) {
      expect(() => parseAddress(bad, { allowWildcards: true })).toThrowError(
        expect.objectContaining({ code: 'INVALID_ADDRESS' }),
      );
    }
  });

  it('allows empty levels (MQTT a//b)', () => {
    expect(parseAddress('topic://a..b').name).toBe('a..b');
  });

  it('never throws anything but INVALID_ADDRESS, and round-trips canonical forms', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.boolean(), (s, wild) => {
        try {
          const a = parseAddress(s, { allowWildcards: wild });
          expect(a.canonical).toBe(s);
          expect(parseAddress(a.canonical, { allowWildcards: wild })).toEqual(a);
        } catch (e) {
          expect(isBlazeError(e) && e.code === 'INVALID_ADDRESS').toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseSendAddress', () => {
  it('splits composites, inherits the kind, removes duplicates', () => {
    expect(parseSendAddress('queue://a,topic://b,c,topic://b').map((a) => a.canonical)).toEqual([
      'queue://a',
      'topic://b',
      'topic://c',
    ]);
    expect(parseSendAddress('queue://a,b').map((a) => a.canonical)).toEqual(['queue://a', 'queue://b']);
  });

  it('refuses wildcards and kind-less first parts', () => {
    expect(() => parseSendAddress('topic://a.>')).toThrowError(
      expect.objectContaining({ code: 'INVALID_ADDRESS' }),
    );
    expect(() => parseSendAddress('a,queue://b')).toThrowError(
      expect.objectContaining({ code: 'INVALID_ADDRESS' }),
    );
    expect(() => parseSendAddress('queue://a,')).toThrowError(
      expect.objectContaining({ code: 'INVALID_ADDRESS' }),
    );
  });
});
