/** Frames of a turn as one message (client/transport/frame-runs.ts): a view when adjacent, else a copy. */
import { describe, expect, it } from 'vitest';
import { adjacent, joinFrames } from '../../../src/client/transport/frame-runs.js';

describe('joinFrames', () => {
  it('frames cut one after the other from one slab become one view of it, no copy', () => {
    const slab = new Uint8Array(64).map((_, i) => i);
    const frames = [slab.subarray(8, 12), slab.subarray(12, 20), slab.subarray(20, 21)];
    const joined = joinFrames(frames, 13);
    expect(joined.buffer).toBe(slab.buffer);
    expect(joined.byteOffset).toBe(8);
    expect([...joined]).toEqual([...slab.subarray(8, 21)]);
  });

  it('scattered frames are copied, in order', () => {
    const a = new Uint8Array([1, 2]);
    const slab = new Uint8Array([9, 3, 4, 5]);
    const frames = [a, slab.subarray(1, 3), slab.subarray(0, 1)];
    expect(adjacent(frames[1]!, frames[2]!)).toBe(false);
    const joined = joinFrames(frames, 5);
    expect(joined.buffer).not.toBe(slab.buffer);
    expect([...joined]).toEqual([1, 2, 3, 4, 9]);
  });
});
