#!/usr/bin/env node
// Durable 1 KiB records per second through the journal (dist/store/journal) versus a plain append-only
// file with one write + fdatasync per batch, for the same batch sizes. The target: the journal
// within 2x of the plain file. The journal is fed by `concurrency` producers, each with one write() of one
// message outstanding (as broker connections would be), so its group commit forms the batches itself;
// the plain file is given exactly the average batch size the journal formed.
//   npm run build && node bench/journal.mjs [--seconds 2] [--rounds 3] [--concurrency 1,10,100,1000]
//     [--dir DIR] [--dist DIR]
import { mkdtempSync, rmSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;
const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].slice(2)] = process.argv[i + 1];
// --dist: another build of the journal (a copy of dist/ made before a change), for A/B runs.
const { JournalStore } = await import(
  join(resolve(args.dist ?? join(ROOT, 'dist')), 'store/journal/index.js')
);
const seconds = Number(args.seconds ?? 2);
const rounds = Number(args.rounds ?? 3);
const levels = (args.concurrency ?? '1,10,100,1000').split(',').map(Number);
// On the same disk as the repository by default (tmpfs would measure nothing).
const base = mkdtempSync(join(args.dir ?? join(ROOT, '.tmp'), 'bench-journal-'));
const RECORD = 1024;

const body = new Uint8Array(RECORD - 64).fill(120); // ~1 KiB encoded with id, address, header
let nextId = 0;
const message = () => ({
  // Shaped as the broker's ids (core/broker.ts nextMessageId: a base-36 sequence after the instance).
  id: `ID:0a1b2c3d:${(++nextId).toString(36)}`,
  address: 'queue://bench',
  body,
  properties: {},
  persistent: true,
  priority: 4,
  expiration: 0,
  timestamp: Date.now(),
});

async function journal(concurrency) {
  const dir = join(base, `j${concurrency}`);
  const segmentSize = 64 * 1024 * 1024;
  const store = new JournalStore({ dir, segmentSize });
  await store.load();
  // Let the first spare segment finish zero-filling, so that it does not compete with the run.
  for (let i = 0; i < 100; i++) {
    const size = await stat(join(dir, 'next.spare')).then(
      (s) => s.size,
      () => 0,
    );
    if (size === segmentSize) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const producer = async () => {
    while (performance.now() < end) {
      await store.write([{ type: 'enqueue', queue: 'queue://bench', message: message() }]);
      done++;
    }
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, producer));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const s = store.stats();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    rate: done / elapsed,
    batch: s.batches / s.syncs,
    // Process CPU (all threads: the event loop and the libuv pool doing write + fdatasync) per record.
    // On a shared machine this moves less than the rate does.
    cpuUs: (cpu.user + cpu.system) / done,
    // The user part: the journal's own work (encode, index, checksum) and the producers'. The system
    // part is mostly the kernel taking the bytes into the page cache, which the plain file pays too,
    // and it is what varies most with the machine's other load.
    userUs: cpu.user / done,
  };
}

async function plain(batch) {
  const file = join(base, `plain${batch}`);
  const fh = await open(file, 'w');
  const buf = Buffer.alloc(batch * RECORD, 120);
  const end = performance.now() + seconds * 1000;
  let pos = 0;
  let done = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  while (performance.now() < end) {
    await fh.write(buf, 0, buf.length, pos);
    pos += buf.length;
    await fh.datasync();
    done += batch;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await fh.close();
  rmSync(file, { force: true });
  return { rate: done / elapsed, cpuUs: (cpu.user + cpu.system) / done, userUs: cpu.user / done };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
console.log(`durable 1 KiB records/s, ${seconds} s per run, in ${base}`);
console.log(
  'producers  journal/s  batch/sync  CPU us/record  (user)  plain file/s (same batch)  CPU us/record  (user)  journal/plain',
);
try {
  // Median of `rounds` alternating runs: the disk is shared, single runs are noisy.
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const c of levels) {
    const js = [];
    const cs = [];
    const us = [];
    const ps = [];
    const pcs = [];
    const pus = [];
    let batch = 1;
    for (let r = 0; r < rounds; r++) {
      const j = await journal(c);
      batch = Math.max(1, Math.round(j.batch));
      js.push(j.rate);
      cs.push(j.cpuUs);
      us.push(j.userUs);
      const p = await plain(batch);
      ps.push(p.rate);
      pcs.push(p.cpuUs);
      pus.push(p.userUs);
    }
    const j = median(js);
    const p = median(ps);
    console.log(
      `${String(c).padStart(9)}  ${fmt(j).padStart(9)}  ${String(batch).padStart(10)}  ${median(cs).toFixed(1).padStart(13)}  ${median(us).toFixed(1).padStart(6)}  ${fmt(p).padStart(25)}  ${median(pcs).toFixed(1).padStart(13)}  ${median(pus).toFixed(1).padStart(6)}  ${(j / p).toFixed(2).padStart(13)}`,
    );
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
