import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoreOp } from '../../../src/core/store.js';
import { isBlazeError } from '../../../src/util/errors.js';
import { msg, openJournal, recordingLogger, tempDirs } from './helpers.js';

const dir = tempDirs();
const segFiles = (d: string) =>
  readdirSync(join(d, 'journal'))
    .filter((f) => f.endsWith('.seg'))
    .sort()
    .map((f) => join(d, 'journal', f));
const ids = (state: Awaited<ReturnType<ReturnType<typeof openJournal>['load']>>, queue: string) =>
  state.queues.find((q) => q.queue === queue)?.messages.map((m) => m.message.id) ?? [];

describe('JournalStore', () => {
  it('recovers queues in order, delivery counts and durable records after a restart', async () => {
    const d = dir();
    const a = openJournal(d);
    expect(await a.load()).toEqual({ queues: [], durables: [], kv: [] });
    const durable = {
      queue: 'durable://c/s',
      clientId: 'c',
      name: 's',
      address: 'topic://t.>',
      noLocal: false,
    };
    const gone = { queue: 'durable://c/x', clientId: 'c', name: 'x', address: 'topic://x', noLocal: true };
    await a.write([
      { type: 'enqueue', queue: 'queue://q', message: msg('m1') },
      { type: 'enqueue', queue: 'queue://q', message: msg('m2', 'queue://q', 3, { correlationId: 'c2' }) },
      { type: 'enqueue', queue: 'queue://q', message: msg('m3') },
      { type: 'durable-add', record: durable },
      { type: 'durable-add', record: gone },
      { type: 'enqueue', queue: 'durable://c/x', message: msg('t1', 'topic://x') },
    ]);
    await a.write([
      { type: 'dequeue', queue: 'queue://q', messageId: 'm2' },
      { type: 'delivery-count', queue: 'queue://q', messageId: 'm3', deliveryCount: 2 },
      { type: 'durable-remove', queue: 'durable://c/x' },
      { type: 'enqueue', queue: 'durable://c/s', message: msg('t2', 'topic://t.a') },
      { type: 'dequeue', queue: 'queue://unknown', messageId: 'nope' },
    ]);
    await a.close();

    const b = openJournal(d);
    const state = await b.load();
    expect(ids(state, 'queue://q')).toEqual(['m1', 'm3']);
    expect(state.queues.find((q) => q.queue === 'queue://q')!.messages.map((m) => m.deliveryCount)).toEqual([
      0, 2,
    ]);
    expect(state.queues.find((q) => q.queue === 'queue://q')!.messages[0]!.message).toEqual(msg('m1'));
    expect(ids(state, 'durable://c/s')).toEqual(['t2']);
    expect(ids(state, 'durable://c/x')).toEqual([]);
    expect(state.durables).toEqual([durable]);
    await b.close();
  });

  it('resolves writes in call order and shares one fdatasync among writes that arrive during a sync', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    const order: number[] = [];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      writes.push(
        j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`) }]).then(() => {
          order.push(i);
        }),
      );
      // A new event-loop turn per write, as producers on different sockets would.
      if (i % 2 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(writes);
    expect(order).toEqual([...Array(200).keys()]);
    const s = j.stats();
    expect(s.batches).toBe(200);
    expect(s.syncs).toBeLessThan(200);
    expect(s.maxBatchesPerSync).toBeGreaterThan(1);
    expect(s.ops).toBe(200);
    await j.close();
    const again = openJournal(d);
    expect(ids(await again.load(), 'queue://q')).toHaveLength(200);
    await again.close();
  });

  it('applies a batch atomically: a crash before its sync leaves none of it', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg('keep') }]);
    const lost = j.write([
      { type: 'dequeue', queue: 'queue://q', messageId: 'keep' },
      { type: 'enqueue', queue: 'queue://DLQ', message: msg('keep', 'queue://DLQ') },
    ]);
    const outcome = lost.then(
      () => 'durable',
      (e: unknown) => e,
    );
    await j.abort();
    expect(isBlazeError(await outcome)).toBe(true);
    const again = openJournal(d);
    const state = await again.load();
    expect(ids(state, 'queue://q')).toEqual(['keep']);
    expect(ids(state, 'queue://DLQ')).toEqual([]);
    await again.close();
  });

  it('rotates segments at the configured size, seals them, and recovers across them', async () => {
    const d = dir();
    const j = openJournal(d, { segmentSize: 4096, reclaim: false });
    await j.load();
    for (let i = 0; i < 60; i++) {
      await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`, 'queue://q', 200) }]);
    }
    await j.close();
    const files = segFiles(d);
    expect(files.length).toBeGreaterThan(3);
    const again = openJournal(d);
    const state = await again.load();
    expect(ids(state, 'queue://q')).toEqual([...Array(60).keys()].map((i) => `m${i}`));
    await again.close();
  });

  it('uses preallocated segments and treats their zero-filled end as free space', async () => {
    const d = dir();
    const log = recordingLogger();
    const j = openJournal(d, { segmentSize: 64 * 1024, preallocate: true, logger: log });
    await j.load();
    for (let i = 0; i < 100; i++) {
      await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`, 'queue://q', 1000) }]);
    }
    await j.abort();
    const files = segFiles(d);
    expect(files.length).toBeGreaterThan(1);
    // The head is a renamed spare: full size, mostly zeros.
    expect(statSync(files.at(-1)!).size).toBe(64 * 1024);
    const again = openJournal(d, { segmentSize: 64 * 1024, preallocate: true, logger: log });
    expect(ids(await again.load(), 'queue://q')).toHaveLength(100);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);
    await again.write([{ type: 'enqueue', queue: 'queue://q', message: msg('after') }]);
    await again.close();
    const third = openJournal(d);
    expect(ids(await third.load(), 'queue://q').at(-1)).toBe('after');
    await third.close();
  });

  it('truncates a torn tail with a warning and keeps everything before it', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    for (let i = 0; i < 5; i++)
      await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`) }]);
    await j.close();
    const file = segFiles(d).at(-1)!;
    const size = statSync(file).size;
    // Half of a record: a length promising more bytes than follow, then garbage.
    const torn = Buffer.alloc(40, 0xab);
    torn.writeUInt32LE(500, 4);
    writeFileSync(file, Buffer.concat([readFileSync(file), torn]));

    const log = recordingLogger();
    const again = openJournal(d, { logger: log });
    expect(ids(await again.load(), 'queue://q')).toHaveLength(5);
    expect(statSync(file).size).toBe(size);
    const warn = log.lines.find((l) => l.level === 'warn');
    expect(warn?.msg).toMatch(/torn tail .*0000000001\.seg at offset \d+/);
    expect(again.stats().tornTailsTruncated).toBe(1);
    await again.close();
  });

  it('refuses to start on a corrupt record in the middle, naming file and offset', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    for (let i = 0; i < 5; i++)
      await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`) }]);
    await j.close();
    const file = segFiles(d)[0]!;
    const bytes = readFileSync(file);
    const first = 33; // magic + segment-start record: the first group record starts here
    bytes[first + 30] = (bytes[first + 30] ?? 0) ^ 0xff;
    writeFileSync(file, bytes);

    const again = openJournal(d);
    const err = await again.load().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBlazeError(err) && err.code).toBe('STORE');
    expect((err as Error).message).toContain(`${file} at offset ${first}`);
    expect((err as Error).message).toMatch(/checksum mismatch.*valid record follows/);
    expect(readFileSync(file)).toEqual(bytes); // nothing changed
    // The lock was released: a repair tool (or a fixed broker) can open it.
    const third = openJournal(d);
    await expect(third.load()).rejects.toThrow(/corrupt/);
  });

  it('refuses a zeroed record in the middle, and one in a segment that is not the last', async () => {
    const d = dir();
    const j = openJournal(d, { segmentSize: 2048, reclaim: false });
    await j.load();
    for (let i = 0; i < 30; i++) {
      await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`, 'queue://q', 100) }]);
    }
    await j.close();
    const files = segFiles(d);
    expect(files.length).toBeGreaterThan(2);
    // Zero the tail of the first segment (last group and seal): that segment ends without its seal.
    const bytes = readFileSync(files[0]!);
    const sealAt = bytes.length - 17;
    let lastGroup = 33;
    for (let p = 33; p < sealAt; p += bytes.readUInt32LE(p + 4)) lastGroup = p;
    bytes.fill(0, lastGroup, bytes.length);
    writeFileSync(files[0]!, bytes);
    await expect(openJournal(d).load()).rejects.toThrow(
      new RegExp(`${files[0]} at offset ${lastGroup}: segment ends without a seal record`),
    );
  });

  it('refuses a zeroed record in the middle of the last segment', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    for (let i = 0; i < 3; i++)
      await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg(`m${i}`) }]);
    await j.close();
    const file = segFiles(d)[0]!;
    const bytes = readFileSync(file);
    bytes.fill(0, 33, 33 + bytes.readUInt32LE(33 + 4));
    writeFileSync(file, bytes);
    await expect(openJournal(d).load()).rejects.toThrow(
      new RegExp(`corrupt record in ${file} at offset 33: zeroed bytes; a valid record follows`),
    );
  });

  it('fails stop on a write error: that write and every later one is rejected', async () => {
    const d = dir();
    const j = openJournal(d);
    await j.load();
    await j.write([{ type: 'enqueue', queue: 'queue://q', message: msg('ok') }]);
    // Pull the file out from under the journal, as a dying disk would.
    await (j as unknown as { head: { fh: { close(): Promise<void> } } }).head.fh.close();
    const op: StoreOp = { type: 'enqueue', queue: 'queue://q', message: msg('lost') };
    await expect(j.write([op])).rejects.toThrow(/journal write failed.*restart the broker/);
    await expect(j.write([op])).rejects.toSatisfy((e: unknown) => isBlazeError(e) && e.code === 'STORE');
    expect(j.stats().failed).toBe(true);
    await j.close();
    const again = openJournal(d);
    expect(ids(await again.load(), 'queue://q')).toEqual(['ok']);
    await again.close();
  });

  it('refuses to open a journal that is already open', async () => {
    const d = dir();
    const a = openJournal(d);
    await a.load();
    await expect(openJournal(d).load()).rejects.toThrow(/already open/);
    await a.close();
  });
});
