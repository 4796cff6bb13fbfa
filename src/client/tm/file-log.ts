/**
 * The decision log in a local file (Node only), format in decision-log.ts. Commit records are made
 * durable with fdatasync before commit() resolves; records queued while a sync runs share the next one
 * (group commit: concurrent transactions pay one sync per batch, not one each). Forget records ride
 * along unsynced.
 *
 * The file is rewritten with only the live decisions once enough forgotten ones have piled up: written
 * to `<path>.tmp`, synced, renamed over the log, and the directory synced, so a crash leaves either the
 * old or the new file, both complete.
 *
 * node:fs is reached through a computed dynamic import so that bundling `blazemq/client` for a browser
 * does not pull it in (test/unit/client/isomorphic.test.ts).
 */
import type { Decision, DecisionLog, LogRecord } from './decision-log.js';
import { decodeLog, encodeRecord } from './decision-log.js';

type Fs = typeof import('node:fs/promises');
type FileHandle = Awaited<ReturnType<Fs['open']>>;

const FS_MODULE = 'node:fs/promises';

export interface FileDecisionLogOptions {
  /** Rewrite the file once this many records are obsolete. Default 10,000. */
  compactAfter?: number;
}

interface Pending {
  bytes: Uint8Array;
  sync: boolean;
  resolve(): void;
  reject(e: Error): void;
}

export class FileDecisionLog implements DecisionLog {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private obsolete = 0;
  private closed = false;

  private constructor(
    private readonly fs: Fs,
    readonly path: string,
    private handle: FileHandle,
    private readonly decisions: Map<string, Decision>,
    private readonly compactAfter: number,
  ) {}

  /** Opens (or creates) the log and replays it; a torn last record is cut off. */
  static async open(path: string, options: FileDecisionLogOptions = {}): Promise<FileDecisionLog> {
    const fs = (await import(FS_MODULE)) as Fs;
    let bytes: Uint8Array;
    let created = false;
    try {
      bytes = await fs.readFile(path);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ENOENT') throw e;
      bytes = new Uint8Array(0);
      created = true;
    }
    const { decisions, validBytes } = decodeLog(bytes);
    if (validBytes < bytes.length) await fs.truncate(path, validBytes);
    const handle = await fs.open(path, 'a');
    if (created) await syncDir(fs, path);
    return new FileDecisionLog(fs, path, handle, decisions, options.compactAfter ?? 10_000);
  }

  commit(decision: Decision): Promise<void> {
    this.decisions.set(decision.gtrid, { gtrid: decision.gtrid, resources: [...decision.resources] });
    return this.append({ c: decision.gtrid, r: [...decision.resources] }, true);
  }

  forget(gtrid: string): Promise<void> {
    if (!this.decisions.delete(gtrid)) return Promise.resolve();
    this.obsolete += 2;
    return this.append({ f: gtrid }, false);
  }

  async pending(): Promise<Decision[]> {
    return [...this.decisions.values()];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.handle.close();
  }

  private append(record: LogRecord, sync: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`decision log ${this.path} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes: encodeRecord(record), sync, resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.handle.write(concat(batch.map((p) => p.bytes)));
        if (batch.some((p) => p.sync)) await this.handle.datasync();
        if (this.obsolete >= this.compactAfter) await this.compact();
        for (const p of batch) p.resolve();
      } catch (e) {
        for (const p of batch) p.reject(e as Error);
      }
    }
    // In the same synchronous step as the empty-queue check: an append made by a caller woken above
    // either was seen by the check or finds `flushing` clear and starts a new flush.
    this.flushing = undefined;
  }

  private async compact(): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const live = concat(
      [...this.decisions.values()].map((d) => encodeRecord({ c: d.gtrid, r: [...d.resources] })),
    );
    const out = await this.fs.open(tmp, 'w');
    try {
      await out.write(live);
      await out.datasync();
    } finally {
      await out.close();
    }
    await this.fs.rename(tmp, this.path);
    await syncDir(this.fs, this.path);
    await this.handle.close();
    this.handle = await this.fs.open(this.path, 'a');
    this.obsolete = 0;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A new or renamed directory entry is durable only once its directory is synced. */
async function syncDir(fs: Fs, path: string): Promise<void> {
  const slash = path.lastIndexOf('/');
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : path.slice(0, slash);
  const h = await fs.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
