/**
 * util/own-bytes.ts: bodies kept by the broker never pin a much larger buffer, and keep their bytes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownBytes, ownBytesOf, pinsMore } from '../../../src/util/own-bytes.js';
import { harness } from '../core/helpers.js';

describe('ownBytes', () => {
  it('keeps the bytes, and copies exactly when a view would pin a buffer over twice its size and the pool', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70_000 }), fc.nat(), fc.nat(), (size, a, b) => {
        const backing = Buffer.alloc(size);
        for (let i = 0; i < size; i++) backing[i] = (i * 7) & 0xff;
        const start = size === 0 ? 0 : a % (size + 1);
        const end = start + (size === 0 ? 0 : b % (size - start + 1));
        const view = backing.subarray(start, end);
        const expected = Buffer.from(view);
        for (const kept of [ownBytes(view), ownBytesOf(backing, start, end)]) {
          expect(Buffer.from(kept).equals(expected)).toBe(true);
          const copied = end > start && kept.buffer !== backing.buffer;
          expect(copied).toBe(end > start && size > Buffer.poolSize && (end - start) * 2 < size);
          if (copied)
            expect(kept.buffer.byteLength).toBeLessThanOrEqual(Math.max(Buffer.poolSize, end - start));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never asks to copy what fills most of its buffer, or what sits in the shared pool', () => {
    expect(pinsMore(40_000, new ArrayBuffer(64 * 1024))).toBe(false);
    expect(pinsMore(100, new ArrayBuffer(Buffer.poolSize))).toBe(false);
    expect(pinsMore(100, new ArrayBuffer(64 * 1024))).toBe(true);
  });
});

describe('the core keeps message bodies of its own', () => {
  it('a small body that is a view of a large read is copied; the read may change afterwards', async () => {
    const h = await harness();
    const c = h.connect();
    const read = Buffer.alloc(64 * 1024, 0x61);
    read.write('hello', 1000);
    await c.send({ address: 'queue://q', body: read.subarray(1000, 1005) });
    read.fill(0);
    const { rec } = h.sub(c, { address: 'queue://q' });
    const kept = rec.deliveries[0]!.message.body;
    expect(Buffer.from(kept).toString()).toBe('hello');
    expect(kept.buffer).not.toBe(read.buffer);
  });

  it('a large body stays the view it was given (no copy of big messages)', async () => {
    const h = await harness();
    const c = h.connect();
    const own = Buffer.alloc(50_000, 1);
    await c.send({ address: 'queue://q', body: own });
    const { rec } = h.sub(c, { address: 'queue://q' });
    expect(rec.deliveries[0]!.message.body.buffer).toBe(own.buffer);
  });
});
