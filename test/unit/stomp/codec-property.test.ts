/**
 * Property tests: encode -> decode is the identity for any frame, version and chunking; arbitrary bytes
 * only ever produce frames or a StompCodecError, and decoding always terminates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  StompCodecError,
  StompDecoder,
  type StompFrame,
  type StompVersion,
} from '../../../src/protocol/stomp/index.js';

const COMMANDS = ['SEND', 'MESSAGE', 'SUBSCRIBE', 'ACK', 'RECEIPT', 'ERROR', 'BEGIN'];

/** Header text per version: 1.0 cannot carry CR/LF at all, nor ':' in names; 1.1 has no escape for CR. */
function textArb(version: StompVersion, name: boolean): fc.Arbitrary<string> {
  const specials =
    version === '1.2'
      ? ['\n', '\r', ':', '\\']
      : version === '1.1'
        ? ['\n', ':', '\\']
        : name
          ? ['\\']
          : [':', '\\'];
  const char = fc.oneof(
    { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' }) },
    { weight: 2, arbitrary: fc.constantFrom(...specials, ' ', 'é', '€', '😀') },
  );
  return fc
    .array(char, { maxLength: 12 })
    .map((cs) => cs.join(''))
    .filter((s) => !/[\r\n]/.test(s) || version !== '1.0')
    .filter((s) => version !== '1.1' || !s.includes('\r'))
    .filter((s) => !name || version !== '1.0' || !s.includes(':'));
}

function frameArb(version: StompVersion) {
  return fc.record({
    command: fc.constantFrom(...COMMANDS),
    headers: fc.uniqueArray(
      fc.tuple(
        textArb(version, true).filter((n) => n !== 'content-length'),
        textArb(version, false),
      ),
      {
        maxLength: 8,
        selector: ([n]) => n,
      },
    ),
    body: fc.uint8Array({ maxLength: 300 }),
  });
}

function decodeChunks(bytes: Buffer, cuts: number[], version: StompVersion): StompFrame[] {
  const d = new StompDecoder({ version });
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: StompFrame[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    d.push(bytes.subarray(prev, p));
    prev = p;
    for (let f = d.next(); f; f = d.next()) out.push(f);
  }
  return out;
}

describe('codec round trip', () => {
  for (const version of ['1.0', '1.1', '1.2'] as const) {
    it(`decode(encode(frames)) === frames for STOMP ${version}, any chunking`, () => {
      fc.assert(
        fc.property(
          fc.array(frameArb(version), { minLength: 1, maxLength: 4 }),
          fc.array(fc.nat(), { maxLength: 10 }),
          fc.boolean(),
          (frames, cuts, heartbeats) => {
            const parts: Buffer[] = [];
            for (const f of frames) {
              if (heartbeats) parts.push(Buffer.from('\n\r\n'));
              parts.push(encodeFrame(f, version));
            }
            const decoded = decodeChunks(Buffer.concat(parts), cuts, version);
            expect(decoded.length).toBe(frames.length);
            decoded.forEach((d, i) => {
              const f = frames[i]!;
              expect(d.command).toBe(f.command);
              for (const [n, v] of f.headers) expect(d.headers[n]).toBe(v);
              expect(Object.keys(d.headers).length).toBe(f.headers.length + (f.body.length > 0 ? 1 : 0));
              expect(Buffer.from(d.body).equals(Buffer.from(f.body))).toBe(true);
            });
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('decodes NUL-terminated bodies without content-length, any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ maxLength: 100 }).map((b) => b.map((x) => (x === 0 ? 1 : x))),
          { minLength: 1, maxLength: 4 },
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        (bodies, cuts) => {
          const bytes = Buffer.concat(
            bodies.map((b) => Buffer.concat([Buffer.from('SEND\nk:v\n\n'), b, Buffer.from([0, 10])])),
          );
          const decoded = decodeChunks(bytes, cuts, '1.2');
          expect(decoded.map((d) => [...d.body])).toEqual(bodies.map((b) => [...b]));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('codec robustness', () => {
  const limits = {
    maxFrameSize: 4096,
    maxBodySize: 2048,
    maxHeaders: 20,
    maxHeaderLineLength: 128,
    maxCommandLength: 32,
  };

  it('random bytes yield frames or StompCodecError, never anything else, and terminate', () => {
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(0, 10, 13, 58, 92, 0x63, 0x6e, 0x72),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(byte, { maxLength: 200 }), { maxLength: 6 }),
        fc.constantFrom('1.0', '1.1', '1.2'),
        (chunks, version) => {
          const d = new StompDecoder({ version: version as StompVersion, limits });
          try {
            for (const c of chunks) {
              d.push(Buffer.from(c));
              let n = 0;
              for (let f = d.next(); f; f = d.next()) if (++n > 10_000) throw new Error('no progress');
            }
          } catch (e) {
            if (!(e instanceof StompCodecError)) throw e;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('random mutations of valid frames yield frames or StompCodecError', () => {
    fc.assert(
      fc.property(
        frameArb('1.2'),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }),
        (f, edits) => {
          const bytes = Buffer.from(
            encodeFrame({ command: f.command, headers: f.headers, body: f.body }, '1.2'),
          );
          for (const [at, v] of edits) bytes[at % bytes.length] = v;
          const d = new StompDecoder({ limits });
          d.push(bytes);
          try {
            while (d.next());
          } catch (e) {
            if (!(e instanceof StompCodecError)) throw e;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
