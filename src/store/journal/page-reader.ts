/**
 * Reading message records back by position, for paging (core/paging.ts; docs/STORAGE.md "Paging"):
 * the index knows each live message's segment, offset and length, so a batch is one pread per run of
 * nearby records (`planRuns`), through file descriptors kept open per segment (`SegmentFiles`).
 *
 * Compaction moves records and then deletes their old segment. A read resolves positions from the
 * index, then reads: a descriptor opened before the deletion still reads the (unchanged) old bytes,
 * since an unlinked file lives on while open; a segment deleted before it was opened fails with ENOENT
 * and the caller resolves again. Descriptors of deleted segments are closed once no read holds them.
 */
import { close, open, openSync, read, readSync } from 'node:fs';
import { join } from 'node:path';
import { segmentFileName } from './format.js';

/** Where one operation's bytes are. */
export interface RecordLocation {
  readonly seg: number;
  readonly off: number;
  readonly bytes: number;
}

/** One pread: `length` bytes of segment `seg` from `off`, holding the records `items` (indexes). */
export interface ReadRun {
  readonly seg: number;
  readonly off: number;
  length: number;
  readonly items: number[];
}

/** Records closer than this are read in one pread, gap included. */
export const MAX_GAP = 4096;
/** A run stops growing at this size (a single larger record is read alone). */
export const MAX_RUN = 1024 * 1024;

/** Groups locations into runs: by segment, by offset, merging records at most `maxGap` apart. */
export function planRuns(
  locations: readonly RecordLocation[],
  maxGap = MAX_GAP,
  maxRun = MAX_RUN,
): ReadRun[] {
  const order = locations.map((_, i) => i);
  order.sort((a, b) => locations[a]!.seg - locations[b]!.seg || locations[a]!.off - locations[b]!.off);
  const runs: ReadRun[] = [];
  let run: ReadRun | undefined;
  for (const i of order) {
    const l = locations[i]!;
    const end = l.off + l.bytes;
    if (run !== undefined && run.seg === l.seg && l.off - (run.off + run.length) <= maxGap) {
      const length = Math.max(run.length, end - run.off);
      if (length <= maxRun) {
        run.length = length;
        run.items.push(i);
        continue;
      }
    }
    run = { seg: l.seg, off: l.off, length: l.bytes, items: [i] };
    runs.push(run);
  }
  return runs;
}

interface OpenFile {
  readonly fd: number;
  refs: number;
  /** The segment was deleted: close once no read holds the descriptor. */
  evicted: boolean;
}

/** Read-only descriptors of segment files, opened on first use and shared by concurrent reads. */
export class SegmentFiles {
  private readonly files = new Map<number, OpenFile>();
  private readonly opening = new Map<number, Promise<OpenFile>>();

  constructor(
    private readonly dir: string,
    /** Descriptors kept open while no read holds them. */
    private readonly keepOpen = 16,
  ) {}

  /** Holds segment `seg` open; pair with `release`. Rejects ENOENT when the segment is gone. */
  async acquire(seg: number): Promise<number> {
    const f = this.files.get(seg);
    if (f !== undefined) {
      f.refs++;
      return f.fd;
    }
    let p = this.opening.get(seg);
    if (p === undefined) {
      p = new Promise<OpenFile>((resolve, reject) => {
        open(join(this.dir, segmentFileName(seg)), 'r', (err, fd) => {
          this.opening.delete(seg);
          if (err !== null) reject(err);
          else {
            const file: OpenFile = { fd, refs: 0, evicted: false };
            this.files.set(seg, file);
            resolve(file);
          }
        });
      });
      this.opening.set(seg, p);
    }
    const file = await p;
    file.refs++;
    return file.fd;
  }

  acquireSync(seg: number): number {
    let f = this.files.get(seg);
    if (f === undefined) {
      f = { fd: openSync(join(this.dir, segmentFileName(seg)), 'r'), refs: 0, evicted: false };
      this.files.set(seg, f);
    }
    f.refs++;
    return f.fd;
  }

  release(seg: number): void {
    const f = this.files.get(seg);
    if (f === undefined) return;
    f.refs--;
    if (f.refs > 0) return;
    if (f.evicted) this.closeFile(seg, f);
    else if (this.files.size > this.keepOpen) this.trim();
  }

  /** Segment `seg` was deleted: its descriptor goes once unused (so its disk space is freed). */
  evict(seg: number): void {
    const f = this.files.get(seg);
    if (f === undefined) return;
    f.evicted = true;
    if (f.refs === 0) this.closeFile(seg, f);
  }

  /** Closes every descriptor (the journal is closing and no read is running). */
  closeAll(): void {
    for (const [seg, f] of this.files) this.closeFile(seg, f);
  }

  get openCount(): number {
    return this.files.size;
  }

  private trim(): void {
    for (const [seg, f] of this.files) {
      if (this.files.size <= this.keepOpen) return;
      if (f.refs === 0) this.closeFile(seg, f);
    }
  }

  private closeFile(seg: number, f: OpenFile): void {
    this.files.delete(seg);
    close(f.fd, () => {});
  }
}

/** pread of exactly `length` bytes at `position` (a short read means the file is shorter: an error). */
export function readAt(fd: number, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = () =>
      read(fd, buf, done, length - done, position + done, (err, n) => {
        if (err !== null) return reject(err);
        if (n === 0) return reject(new Error(`short read: ${done} of ${length} bytes at ${position}`));
        done += n;
        if (done < length) step();
        else resolve(buf);
      });
    step();
  });
}

export function readAtSync(fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, done, length - done, position + done);
    if (n === 0) throw new Error(`short read: ${done} of ${length} bytes at ${position}`);
    done += n;
  }
  return buf;
}
