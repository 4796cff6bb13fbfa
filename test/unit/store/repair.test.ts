import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repairJournal, verifyJournal } from '../../../src/store/journal/index.js';
import { msg, openJournal, tempDir } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function journalWith(
  count: number,
  options = {},
): Promise<{ dir: string; jdir: string; files: string[] }> {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const j = openJournal(dir, options);
  await j.load();
  for (let i = 0; i < count; i++) {
    await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`, 'queue://q', 100) }]);
  }
  await j.close();
  const jdir = join(dir, 'journal');
  const files = readdirSync(jdir)
    .filter((f) => f.endsWith('.seg'))
    .sort()
    .map((f) => join(jdir, f));
  return { dir, jdir, files };
}

async function recoveredIds(dir: string): Promise<string[]> {
  const j = openJournal(dir);
  const state = await j.load();
  await j.close();
  return state.queues.find((q) => q.queue === 'queue://q')?.messages.map((m) => m.message.id) ?? [];
}

describe('store verify and repair', () => {
  it('verify summarises a healthy journal', async () => {
    const { jdir } = await journalWith(10, { segmentSize: 1024, reclaim: false });
    const r = await verifyJournal(jdir);
    expect(r.ok).toBe(true);
    expect(r.issues).toEqual([]);
    expect(r.records).toBe(10);
    expect(r.liveMessages).toBe(10);
    expect(r.segments.length).toBeGreaterThan(1);
  });

  it('skips a damaged record in the middle, keeping everything around it', async () => {
    const { dir, jdir, files } = await journalWith(5);
    const bytes = readFileSync(files[0]!);
    const second = 33 + bytes.readUInt32LE(33 + 4);
    bytes[second + 40] = (bytes[second + 40] ?? 0) ^ 0x55;
    writeFileSync(files[0]!, bytes);

    const before = await verifyJournal(jdir);
    expect(before.ok).toBe(false);
    expect(before.issues[0]).toMatchObject({ kind: 'corrupt', file: files[0], offset: second });
    await expect(recoveredIds(dir)).rejects.toThrow(/corrupt/);

    const report = await repairJournal(jdir);
    expect(report.actions).toHaveLength(1);
    expect(report.actions[0]).toMatch(
      new RegExp(`skipped \\d+ damaged bytes in ${files[0]} at offset ${second}`),
    );
    expect(report.after.ok).toBe(true);
    expect(report.after.issues).toEqual([]);
    expect(await recoveredIds(dir)).toEqual(['m0', 'm2', 'm3', 'm4']);
  });

  it('rewrites a damaged segment header when records follow it', async () => {
    const { dir, jdir, files } = await journalWith(3);
    const bytes = readFileSync(files[0]!);
    bytes.fill(0, 0, 33);
    writeFileSync(files[0]!, bytes);
    expect((await verifyJournal(jdir)).ok).toBe(false);
    const report = await repairJournal(jdir);
    expect(report.after.ok).toBe(true);
    expect(await recoveredIds(dir)).toEqual(['m0', 'm1', 'm2']);
  });

  it('truncates and seals a middle segment whose tail is lost', async () => {
    const { dir, jdir, files } = await journalWith(30, { segmentSize: 1024, reclaim: false });
    const bytes = readFileSync(files[0]!);
    writeFileSync(files[0]!, bytes.subarray(0, bytes.length - 30));
    const before = await verifyJournal(jdir);
    expect(before.ok).toBe(false);
    const report = await repairJournal(jdir);
    expect(report.actions[0]).toMatch(/truncated .*segment sealed|sealed/);
    expect(report.after.ok).toBe(true);
    const ids = await recoveredIds(dir);
    expect(ids.length).toBeGreaterThan(25);
    expect(ids.at(-1)).toBe('m29');
  });

  it('reports a torn tail as a warning and repair truncates it', async () => {
    const { jdir, files } = await journalWith(3);
    writeFileSync(files[0]!, Buffer.concat([readFileSync(files[0]!), Buffer.from([1, 2, 3, 4, 5, 6])]));
    const r = await verifyJournal(jdir);
    expect(r.ok).toBe(true);
    expect(r.issues.map((i) => i.kind)).toEqual(['torn-tail']);
    const report = await repairJournal(jdir);
    expect(report.actions[0]).toMatch(/truncated 6 bytes of torn tail/);
    expect(report.after.issues).toEqual([]);
  });
});
