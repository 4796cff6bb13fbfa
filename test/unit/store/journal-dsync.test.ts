import { constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { msg, openJournal, tempDirs } from './helpers.js';

const dir = tempDirs();
/** open(2)'s access-mode bits (Linux); node:fs does not export O_ACCMODE. */
const O_ACCMODE = 3;

/** open(2) flags of this process's read-write descriptors on `file` (Linux: /proc/self/fdinfo). */
function writeFlags(file: string): number[] {
  const out: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== file) continue;
    const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    const flags = Number.parseInt(m![1]!, 8);
    if ((flags & O_ACCMODE) === constants.O_RDWR) out.push(flags);
  }
  return out;
}

const segment = (d: string, id: number) => join(d, 'journal', `${String(id).padStart(10, '0')}.seg`);

// The group's write is its fdatasync (journal.ts `O_DSYNC`): a head opened without the flag would
// acknowledge writes that are only in the page cache, which no crash test on a live machine notices.
describe.runIf(process.platform === 'linux')('journal head segment', () => {
  it('is open with O_DSYNC when created, after rotation and after a restart', async () => {
    const d = dir();
    const a = openJournal(d, { segmentSize: 64 * 1024, preallocate: true });
    await a.load();
    await a.write([{ type: 'enqueue', queue: 'queue://q', message: msg('m0') }]);
    expect(writeFlags(segment(d, 1)).map((f) => f & constants.O_DSYNC)).toEqual([constants.O_DSYNC]);
    // 100 groups of ~2 KiB: past 64 KiB, so the head moves on at least once.
    for (let i = 1; i <= 100; i++) {
      await a.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`, 'queue://q', 2000) }]);
    }
    const last = a.stats().segments;
    expect(last).toBeGreaterThan(1);
    expect(writeFlags(segment(d, last)).map((f) => f & constants.O_DSYNC)).toEqual([constants.O_DSYNC]);
    await a.close();

    const b = openJournal(d, { segmentSize: 64 * 1024 });
    const state = await b.load();
    expect(state.queues[0]!.messages).toHaveLength(101);
    expect(writeFlags(segment(d, last)).map((f) => f & constants.O_DSYNC)).toEqual([constants.O_DSYNC]);
    await b.close();
  });
});
