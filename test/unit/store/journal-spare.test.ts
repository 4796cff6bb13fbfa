import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { msg, openJournal, tempDirs } from './helpers.js';

const dir = tempDirs();
const MiB = 1024 * 1024;

async function spareReady(d: string): Promise<void> {
  const file = join(d, 'journal', 'next.spare');
  for (let i = 0; i < 200 && !(existsSync(file) && statSync(file).size === MiB); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

// journal.ts SPARE_MAX_GROUP: zero-filling the next segment pays off for small groups only.
describe('journal spare segments', () => {
  it('are zero-filled after a segment of small groups, not after one of large groups', async () => {
    const d = dir();
    const spare = join(d, 'journal', 'next.spare');
    const j = openJournal(d, { segmentSize: MiB, preallocate: true });
    await j.load();
    await spareReady(d);
    // ~300 KiB per group: the first rotation takes the spare made at start, and makes none after it.
    let n = 0;
    while (j.stats().segments < 3) {
      await j.write([
        { type: 'enqueue', queue: 'queue://q', message: msg(`big${n++}`, 'queue://q', 300_000) },
      ]);
    }
    expect(existsSync(spare)).toBe(false);
    // The new head was created, not renamed from a spare: it holds only what was written.
    const head = join(d, 'journal', '0000000003.seg');
    expect(statSync(head).size).toBeLessThan(MiB);
    // Then ~2 KiB per group through the next rotation: a spare again.
    while (j.stats().segments < 4) {
      await j.write([
        { type: 'enqueue', queue: 'queue://q', message: msg(`small${n++}`, 'queue://q', 2000) },
      ]);
    }
    await j.close();
    expect(statSync(spare).size).toBe(MiB);

    const again = openJournal(d, { segmentSize: MiB, preallocate: true });
    expect((await again.load()).queues[0]!.messages).toHaveLength(n);
    await again.close();
  });
});
