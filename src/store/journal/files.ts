/**
 * File-system helpers for the journal: full positional writes, directory fsync (so that creating,
 * renaming and deleting segments survives a power loss), zero-filled spare segments, and the lock file
 * that keeps two processes from appending to one journal.
 */
import { type FileHandle, open, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlazeError } from '../../util/errors.js';

/** Writes all of buf[from, to) at `position`; a short write (disk full) is retried, then reported. */
export async function writeFully(
  fh: FileHandle,
  buf: Uint8Array,
  position: number,
  from = 0,
  to = buf.length,
): Promise<void> {
  let off = from;
  while (off < to) {
    const { bytesWritten } = await fh.write(buf, off, to - off, position + (off - from));
    if (bytesWritten <= 0)
      throw Object.assign(new Error('no bytes written (disk full?)'), { code: 'ENOSPC' });
    off += bytesWritten;
  }
}

/** fsync on the directory: makes file creations, renames and unlinks in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const ZEROS = Buffer.alloc(1024 * 1024);

/**
 * Writes `size` zero bytes to a new file and syncs it. Overwriting blocks that already exist lets each
 * later fdatasync skip the file-size and block-allocation metadata that appending would change
 * (measured: ~40% more syncs per second, docs/STORAGE.md).
 */
export async function createZeroFile(file: string, size: number): Promise<void> {
  const fh = await open(file, 'w');
  try {
    for (let pos = 0; pos < size; pos += ZEROS.length) {
      await writeFully(fh, ZEROS, pos, 0, Math.min(ZEROS.length, size - pos));
    }
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Journal directories opened by this process (a lock file naming our own pid is ours or stale). */
const openHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `<dir>/LOCK`. A lock left by a process that died (kill -9) is taken over; one held by a live
 * process is a STORE error naming it.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, 'LOCK');
  if (openHere.has(dir)) throw new BlazeError('STORE', `journal ${dir} is already open in this process`);
  let holder: number | undefined;
  try {
    holder = Number((await readFile(file, 'utf8')).trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (holder !== undefined && holder !== process.pid && Number.isInteger(holder) && holder > 0) {
    if (alive(holder)) {
      throw new BlazeError('STORE', `journal ${dir} is in use by process ${holder} (lock file ${file})`);
    }
  }
  await writeFile(file, `${process.pid}\n`);
  openHere.add(dir);
  return async () => {
    openHere.delete(dir);
    await rm(file, { force: true });
  };
}

/** Whether a live process other than this one holds the journal (for the offline tools' warning). */
export async function lockHolder(dir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(join(dir, 'LOCK'), 'utf8')).trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}
