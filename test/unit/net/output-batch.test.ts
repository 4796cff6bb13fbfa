import { describe, expect, it } from 'vitest';
import { DrainSignal, OutputBatch } from '../../../src/net/output-batch.js';
import { enterInput, flushAfterTurn, leaveInput } from '../../../src/util/input-turn.js';

const turn = () => new Promise((r) => setImmediate(r));

/** A batch whose flushes are recorded as the text of the chunks each one took. */
const recording = () => {
  const flushed: string[][] = [];
  const batch: OutputBatch = new OutputBatch(() =>
    flushed.push(batch.take().map((c) => Buffer.from(c).toString())),
  );
  return { batch, flushed };
};

describe('OutputBatch', () => {
  it('hands everything added in one turn to one flush, in order', async () => {
    const { batch, flushed } = recording();
    batch.add(Buffer.from('a'));
    batch.add(Buffer.from('b'));
    batch.add(new Uint8Array(0));
    expect(batch.bytes).toBe(2);
    await turn();
    batch.add(Buffer.from('c'));
    await turn();
    expect(flushed).toEqual([['a', 'b'], ['c']]);
    expect(batch.bytes).toBe(0);
  });

  it('merges chunks that follow each other in the same memory into one view', () => {
    const slab = Buffer.from('hello world');
    const batch = new OutputBatch(() => {});
    batch.add(slab.subarray(0, 5));
    batch.add(slab.subarray(5, 11));
    batch.add(Buffer.from('!'));
    const chunks = batch.take();
    expect(chunks.map((c) => Buffer.from(c).toString())).toEqual(['hello world', '!']);
    expect(chunks[0]!.buffer).toBe(slab.buffer);
  });

  it('keeps separate runs apart, each one view, and starts clean after take()', () => {
    const a = Buffer.from('abcdef');
    const b = Buffer.from('uvwxyz');
    const batch = new OutputBatch(() => {});
    for (let i = 0; i < 6; i += 2) batch.add(a.subarray(i, i + 2));
    batch.add(b.subarray(0, 3));
    batch.add(b.subarray(3, 6));
    batch.add(a.subarray(0, 1)); // same slab, not adjacent: a run of its own
    expect(batch.bytes).toBe(13);
    const chunks = batch.take();
    expect(chunks.map((c) => Buffer.from(c).toString())).toEqual(['abcdef', 'uvwxyz', 'a']);
    batch.add(a.subarray(1, 2)); // would continue the last taken chunk: not merged into the past
    expect(batch.take().map((c) => Buffer.from(c).toString())).toEqual(['b']);
  });
});

describe('OutputBatch at the end of an input turn', () => {
  it('hands output caused by input over when the outermost input turn ends, not a loop iteration later', () => {
    const { batch, flushed } = recording();
    enterInput();
    batch.add(Buffer.from('a'));
    enterInput();
    batch.add(Buffer.from('b'));
    leaveInput();
    expect(flushed).toEqual([]);
    leaveInput();
    expect(flushed).toEqual([['a', 'b']]);
  });

  it('sends what sessions flush at the end of the turn in the same pass, after them', () => {
    const { batch, flushed } = recording();
    enterInput();
    flushAfterTurn({ flushTurn: () => batch.add(Buffer.from('from a session flush')) });
    leaveInput();
    expect(flushed).toEqual([['from a session flush']]);
  });

  it('collects output of later turns in the same loop iteration for one setImmediate write', async () => {
    const { batch, flushed } = recording();
    for (const c of ['first', 'second', 'third']) {
      enterInput();
      batch.add(Buffer.from(c));
      leaveInput();
    }
    expect(flushed).toEqual([['first']]);
    await turn();
    expect(flushed).toEqual([['first'], ['second', 'third']]);
    // A new iteration: the next turn's output goes out at its end again.
    enterInput();
    batch.add(Buffer.from('fourth'));
    leaveInput();
    expect(flushed).toEqual([['first'], ['second', 'third'], ['fourth']]);
  });

  it('still sends when a session flush at the end of the turn throws', () => {
    const { batch, flushed } = recording();
    enterInput();
    batch.add(Buffer.from('kept'));
    flushAfterTurn({
      flushTurn: () => {
        throw new Error('a session bug');
      },
    });
    expect(() => leaveInput()).toThrow('a session bug');
    expect(flushed).toEqual([['kept']]);
  });

  it('a carrier whose write throws strands neither the carriers after it nor its own later output', async () => {
    let throwing = true;
    const failing: OutputBatch = new OutputBatch(() => {
      failing.take();
      if (throwing) throw new Error('a carrier bug');
    });
    const { batch, flushed } = recording();
    enterInput();
    failing.add(Buffer.from('lost'));
    batch.add(Buffer.from('after it'));
    expect(() => leaveInput()).toThrow('a carrier bug');
    expect(flushed).toEqual([['after it']]);
    throwing = false;
    await turn();
    enterInput();
    failing.add(Buffer.from('next'));
    batch.add(Buffer.from('next'));
    leaveInput();
    expect(failing.bytes).toBe(0); // written: not held behind a flag the throw left set
    expect(flushed).toEqual([['after it'], ['next']]);
  });
});

describe('DrainSignal', () => {
  it('says stop above the high-water mark and calls listeners once at or below the low-water mark', () => {
    const d = new DrainSignal(100, 10);
    let calls = 0;
    expect(d.accept(100)).toBe(true);
    expect(d.accept(101)).toBe(false);
    d.onDrain(() => calls++);
    d.check(50);
    expect(calls).toBe(0);
    expect(d.accept(50)).toBe(false); // still owes a drain
    d.check(10);
    d.check(0);
    expect(calls).toBe(1);
    expect(d.accept(50)).toBe(true);
  });
});
