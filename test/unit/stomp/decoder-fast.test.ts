/**
 * The decoder's shortcuts: the name cache must never return a string other than what decoding the
 * bytes gives, and the ACK fast path must decode any stream exactly as the ordinary path does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NameCache } from '../../../src/protocol/stomp/codec/decoder.js';
import { StompDecoder } from '../../../src/protocol/stomp/index.js';

describe('NameCache', () => {
  it('returns the same string object for the same bytes, and never confuses different bytes', () => {
    const cache = new NameCache();
    const b = Buffer.from('destination|destination|destinatioN|é|\xe9|');
    const a1 = cache.get(b, 0, 11);
    const a2 = cache.get(b, 12, 23);
    expect(a1).toBe('destination');
    expect(a2).toBe(a1);
    expect(cache.get(b, 24, 35)).toBe('destinatioN');
    const latin = Buffer.from([0xe9, 0x7c, 0xc3, 0xa9]);
    expect(cache.get(latin, 0, 1)).toBe('\ufffd');
    expect(cache.get(latin, 2, 4)).toBe('é');
    expect(cache.get(latin, 0, 1)).toBe('\ufffd');
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 6 }), { maxLength: 40 }), (names) => {
        const c = new NameCache();
        for (const n of names) {
          const buf = Buffer.from(n);
          expect(c.get(buf, 0, buf.length)).toBe(buf.toString('utf8'));
        }
      }),
    );
  });
});

describe('StompDecoder.nextAck (ACK fast path)', () => {
  /** Decodes with the fast path first, as the session does; fast ACKs become ordinary-looking frames. */
  function decodeFast(chunks: Buffer[]): Array<{ command: string; headers: Record<string, string> }> {
    const d = new StompDecoder();
    const tag = [0];
    const out: Array<{ command: string; headers: Record<string, string> }> = [];
    for (const c of chunks) {
      d.push(c);
      for (;;) {
        const index = d.nextAck(tag);
        if (index >= 0) {
          out.push({ command: 'ACK', headers: { id: `${index.toString(36)}-${tag[0]!.toString(36)}` } });
          continue;
        }
        const f = d.next();
        if (f === null) break;
        out.push({ command: f.command, headers: { ...f.headers } });
      }
    }
    return out;
  }

  function decodePlain(chunks: Buffer[]): Array<{ command: string; headers: Record<string, string> }> {
    const d = new StompDecoder();
    const out: Array<{ command: string; headers: Record<string, string> }> = [];
    for (const c of chunks) {
      d.push(c);
      for (let f = d.next(); f !== null; f = d.next())
        out.push({ command: f.command, headers: { ...f.headers } });
    }
    return out;
  }

  it('takes exactly the canonical form and leaves everything else to next()', () => {
    const d = new StompDecoder();
    const tag = [0];
    d.push(Buffer.from('\nACK\nid:1z-2s\n\n\0'));
    expect(d.nextAck(tag)).toBe(71);
    expect(tag[0]).toBe(100);
    expect(d.next()).toBeNull();
    for (const other of [
      'ACK\nid:01-2\n\n\0',
      'ACK\nid:1-A\n\n\0',
      'ACK\r\nid:1-2\n\n\0',
      'ACK\nid:1-2\nreceipt:r\n\n\0',
      'ACK\nid:1-2\n\nx\0',
      'ACK\nid:123456789012-2\n\n\0',
      'NACK\nid:1-2\n\n\0',
      'ACK\nid:1-2\n\n',
    ]) {
      const e = new StompDecoder();
      e.push(Buffer.from(other));
      expect(e.nextAck(tag)).toBe(-1);
    }
  });

  it('decodes any stream of ACKs and other frames, cut anywhere, like next() alone', () => {
    const ack = fc
      .tuple(fc.maxSafeNat(), fc.maxSafeNat())
      .map(([i, t]) => `ACK\nid:${(i % 1e6).toString(36)}-${t.toString(36)}\n\n\0`);
    const other = fc.constantFrom(
      'ACK\nid:07-1\n\n\0',
      'ACK\nid:1-2\nreceipt:x\n\n\0',
      'SEND\ndestination:/queue/a\ncontent-length:3\n\nabc\0',
      'NACK\nid:1-1\n\n\0',
      '\n',
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(ack, other), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (frames, cuts) => {
          const bytes = Buffer.from(frames.join(''));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.subarray(prev, p));
            prev = p;
          }
          expect(decodeFast(chunks)).toEqual(decodePlain(chunks));
        },
      ),
    );
  });
});
