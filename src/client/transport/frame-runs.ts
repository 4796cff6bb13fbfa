/**
 * Frames of one turn as few pieces of memory as possible. The client encodes frames one after the other
 * into a 64 KiB slab (codec/writer.ts allocFrame), so a turn's frames usually lie end to end: a view over
 * them needs no copy. Plain Uint8Array (no Buffer): the WebSocket transport runs in browsers too.
 */

/** Whether `b` starts where `a` ends, in the same memory. */
export function adjacent(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && b.byteOffset === a.byteOffset + a.length;
}

/** `frames` (`total` bytes) as one Uint8Array: a view when they lie end to end, else a copy. */
export function joinFrames(frames: readonly Uint8Array[], total: number): Uint8Array {
  const first = frames[0]!;
  let contiguous = true;
  for (let i = 1; i < frames.length && contiguous; i++) contiguous = adjacent(frames[i - 1]!, frames[i]!);
  if (contiguous) return new Uint8Array(first.buffer, first.byteOffset, total);
  const out = new Uint8Array(total);
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}
