/**
 * The transaction manager's pure parts: base64url, the xid <-> PostgreSQL gid mapping, the xids the TM
 * makes and recognises, and the decision-log record codec (with torn and corrupted tails).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, decodeLog, encodeRecord, type LogRecord } from '../../../src/client/tm/decision-log.js';
import { gidToXid, xidToGid } from '../../../src/client/tm/pg-gid.js';
import {
  base64url,
  branchXid,
  fromBase64url,
  newGtrid,
  parseXid,
  TM_FORMAT_ID,
} from '../../../src/client/tm/xid.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const xidArb = fc.record({
  formatId: fc.integer({ min: 0, max: 0x7fffffff }),
  globalId: bytes(1, 64),
  branchId: bytes(0, 64),
});

describe('base64url', () => {
  it("matches Node's encoder and round-trips", () => {
    fc.assert(
      fc.property(bytes(0, 100), (b) => {
        const s = base64url(b);
        expect(s).toBe(Buffer.from(b).toString('base64url'));
        expect(fromBase64url(s)).toEqual(b);
      }),
    );
  });

  it('rejects what it would not produce', () => {
    expect(fromBase64url('A')).toBeUndefined(); // impossible length
    expect(fromBase64url('AB')).toBeUndefined(); // non-canonical trailing bits ("AA" is 0x00)
    expect(fromBase64url('AA=')).toBeUndefined();
    expect(fromBase64url('A+A/')).toBeUndefined();
    expect(fromBase64url('AA')).toEqual(new Uint8Array([0]));
  });
});

describe('xid <-> PostgreSQL gid', () => {
  it("round-trips every valid xid within PostgreSQL's 200-byte gid limit, in a quote-free alphabet", () => {
    fc.assert(
      fc.property(xidArb, (xid) => {
        const gid = xidToGid(xid);
        expect(gid.length).toBeLessThan(200);
        expect(gid).toMatch(/^[A-Za-z0-9._-]+$/);
        expect(gidToXid(gid)).toEqual(xid);
      }),
    );
  });

  it('decodes any other string as undefined or as an xid that encodes back to it', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `xa.${s}`),
          xidArb.map(xidToGid).map((g) => `${g}x`),
        ),
        (s) => {
          const xid = gidToXid(s);
          if (xid !== undefined) expect(xidToGid(xid)).toBe(s);
        },
      ),
    );
    expect(gidToXid('gx1')).toBeUndefined();
    expect(gidToXid('xa.01.AA.')).toBeUndefined(); // leading zero: not canonical
    expect(gidToXid('xa.4294967295.AA.')).toBeUndefined(); // beyond int32
  });

  it('refuses xids XA does not allow', () => {
    expect(() => xidToGid({ formatId: 1, globalId: new Uint8Array(0), branchId: new Uint8Array(0) })).toThrow(
      RangeError,
    );
    expect(() =>
      xidToGid({ formatId: 1, globalId: new Uint8Array(65), branchId: new Uint8Array(0) }),
    ).toThrow(RangeError);
    expect(() =>
      xidToGid({ formatId: -1, globalId: new Uint8Array(1), branchId: new Uint8Array(0) }),
    ).toThrow(RangeError);
  });
});

describe('TM xids', () => {
  it("carry the tmId in the gtrid and the resource name in the bqual, within XA's 64 bytes", () => {
    const tmId = 'x'.repeat(40);
    const gtrid = newGtrid(tmId);
    const xid = branchXid(gtrid, 'orders-db');
    expect(xid.formatId).toBe(TM_FORMAT_ID);
    expect(xid.globalId.length).toBeLessThanOrEqual(64);
    expect(parseXid(xid, tmId)).toEqual({ gtrid, resource: 'orders-db' });
    expect(newGtrid(tmId)).not.toBe(gtrid);
  });

  it('ignore xids of other format ids, other TMs, or undecodable parts', () => {
    const xid = branchXid(newGtrid('tm-a'), 'broker');
    expect(parseXid(xid, 'tm-b')).toBeUndefined();
    expect(parseXid(xid, 'tm')).toBeUndefined(); // 'tm-a:...' does not start with 'tm:'
    expect(parseXid({ ...xid, formatId: 1 }, 'tm-a')).toBeUndefined();
    expect(parseXid({ ...xid, branchId: new Uint8Array([0xff]) }, 'tm-a')).toBeUndefined();
  });
});

describe('decision log records', () => {
  const recordArb: fc.Arbitrary<LogRecord> = fc.oneof(
    fc.record({ c: fc.string(), r: fc.array(fc.string(), { maxLength: 3 }) }),
    fc.record({ f: fc.string() }),
  );

  /** The decisions a list of records leaves, by replaying them. */
  const replay = (records: LogRecord[]) => {
    const m = new Map<string, string[]>();
    for (const r of records) {
      if ('c' in r) m.set(r.c, r.r);
      else m.delete(r.f);
    }
    return m;
  };
  const concat = (parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));

  it('replays a whole log', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 20 }), (records) => {
        const bytes = concat(records.map(encodeRecord));
        const { decisions, validBytes } = decodeLog(bytes);
        expect(validBytes).toBe(bytes.length);
        expect(new Map([...decisions].map(([k, d]) => [k, d.resources]))).toEqual(replay(records));
      }),
    );
  });

  it('a log cut anywhere replays as the complete records before the cut', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 10 }), fc.nat(), (records, at) => {
        const encoded = records.map(encodeRecord);
        const bytes = concat(encoded);
        const cut = at % (bytes.length + 1);
        let whole = 0;
        let len = 0;
        while (whole < encoded.length && len + encoded[whole]!.length <= cut) len += encoded[whole++]!.length;
        const { decisions, validBytes } = decodeLog(bytes.subarray(0, cut));
        expect(validBytes).toBe(len);
        expect(new Map([...decisions].map(([k, d]) => [k, d.resources]))).toEqual(
          replay(records.slice(0, whole)),
        );
      }),
    );
  });

  it('stops at a corrupted record (CRC), keeping what came before', () => {
    fc.assert(
      fc.property(
        fc.array(recordArb, { minLength: 2, maxLength: 6 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (records, at, x) => {
          const encoded = records.map(encodeRecord);
          const bytes = concat(encoded);
          const last = encoded.at(-1)!;
          const start = bytes.length - last.length;
          const pos = start + (at % (last.length - 1)); // any byte of the last record but its newline
          bytes[pos]! ^= x;
          const { validBytes } = decodeLog(bytes);
          expect(validBytes).toBe(start);
        },
      ),
    );
  });

  it('uses the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});
