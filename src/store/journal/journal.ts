/**
 * JournalStore: the embedded default MessageStore. An append-only log of segment files (format.ts)
 * with group commit, crash recovery and space reclaim. docs/STORAGE.md explains the design; in short:
 *
 * Group commit. write() only queues its operations. One flush loop at a time encodes everything queued
 * into ONE group record, writes it with one positional write and makes it durable (the head segment is
 * opened O_DSYNC, so that write is also the group's fdatasync; where the platform lacks O_DSYNC an
 * fdatasync follows), on libuv's thread pool, so the event loop keeps running; writes arriving meanwhile
 * queue for the next group. The writes of a group share one promise, settled after its fdatasync. Operations
 * are applied to the in-memory index when they are encoded, i.e. in log order, so between two groups the
 * index describes exactly what is durable: that is when segment deletions are decided.
 *
 * Cancellation within a group. A group is atomic, so operations that undo each other inside it need not
 * be written: a message enqueued and dequeued in the same group (`cancelEnqueue`), a key/value record
 * put and deleted (or put twice) in the same group (`deferKv`). A recovery reads back the same state
 * either way. This is what a consumer that keeps up costs no disk bytes for (docs/PERFORMANCE.md, MQTT
 * W3).
 *
 * Failure. A write or fdatasync error is fail-stop: the failing group and every later write are
 * rejected with a STORE error, nothing more is written or deleted, and a restart recovers the durable
 * prefix (what was acknowledged) and drops the incomplete group. After a failed fdatasync the kernel may
 * have dropped the dirty pages, so retrying could acknowledge data that is not on disk.
 *
 * Reclaim. A segment with nothing live whose cancelled enqueues are all gone is deleted (live-index.ts).
 * When more than half of the data is dead and at least `compactMinBytes` could be freed, the oldest
 * sparse segment (or one that keeps dead segments alive) is compacted: its live messages, delivery
 * counts, durable records and key/value records are copied to the head in steps of `compactStepBytes`, each an ordinary
 * group, so producers wait at most one extra small group; then it becomes deletable.
 *
 * Paging. `read`/`readSync` return live messages by id from where the index says their record is
 * (page-reader.ts): from the file, or from the group buffer while the record is not written yet (a
 * compaction may just have moved it). A record is decoded and checked against the queue and id asked
 * for; a miss (the record moved and its old segment was deleted meanwhile) resolves again.
 */
import { constants as fsc } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Message } from '../../core/message.js';
import type { MessageStore, PreparedBranch, RecoveredState, StoreOp } from '../../core/store.js';
import { xidKey } from '../../core/store.js';
import { BlazeError, isBlazeError } from '../../util/errors.js';
import { type Logger, silentLogger } from '../../util/logger.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { decodeOp, encodeOp, type JournalOp, OP_CODES, type RelocateOp } from './codec.js';
import { acquireLock, createZeroFile, fsyncDir, writeFully } from './files.js';
import {
  checkRecordAt,
  encodeRecord,
  FORMAT_VERSION,
  finishRecord,
  RECORD_HEADER,
  RecordType,
  SEGMENT_HEADER_SIZE,
  SEGMENT_MAGIC,
  segmentFileName,
  segmentHeader,
} from './format.js';
import { type KvOp, PendingKv } from './kv-pending.js';
import { JournalIndex } from './live-index.js';
import { planRuns, type RecordLocation, readAt, readAtSync, SegmentFiles } from './page-reader.js';
import { describeIssue, listSegments, replayJournal } from './recovery.js';
import { OpScan, scanOp } from './scan.js';

const MiB = 1024 * 1024;
const SPARE = 'next.spare';
/**
 * The head segment is opened with O_DSYNC where the platform has it: a group's write then returns only
 * once its data is durable, as write + fdatasync would, in one system call and one trip through the
 * thread pool instead of two (the wake-ups of a round trip were a visible share of the CPU per group,
 * bench/journal.mjs). Elsewhere (Windows) the flush loop calls fdatasync after the write.
 */
const O_DSYNC: number | undefined = fsc.O_DSYNC;
const HEAD_OPEN = fsc.O_RDWR | (O_DSYNC ?? 0);
const HEAD_CREATE = fsc.O_RDWR | fsc.O_CREAT | fsc.O_EXCL | (O_DSYNC ?? 0);
/**
 * A spare is zero-filled only while the groups written are smaller than this on average (over the
 * segment just filled). Overwriting zero-filled blocks spares each small sync the file-size and
 * block-allocation metadata (10 records of 1 KiB per sync: ~21 k -> ~29 k records/s), but the zero-fill
 * writes every segment twice and competes with the journal's own writes: at 1 MiB per sync, 1.3 ms per
 * sync without it against 1.75 ms with it, and ~0.3 us more CPU per 1 KiB record (bench/journal.mjs;
 * docs/STORAGE.md "Performance"). Around 100 KiB per sync the two were even.
 */
const SPARE_MAX_GROUP = 256 * 1024;

export interface JournalOptions {
  /** Directory holding the segments (created if missing), e.g. `<dataDir>/journal`. */
  dir: string;
  /** A segment is sealed and a new one started once it holds this many bytes. Default 64 MiB. */
  segmentSize?: number;
  /**
   * Zero-fill the next segment ahead of time (faster fdatasync of small groups; skipped while groups are
   * large, SPARE_MAX_GROUP). Default true.
   */
  preallocate?: boolean;
  /** A group holding more than this is closed and the rest waits for the next one. Default 16 MiB. */
  maxGroupBytes?: number;
  /** Delete dead segments and compact sparse ones automatically. Default true. */
  reclaim?: boolean;
  /** Compaction starts only when at least this many dead bytes could be freed. Default 2 segments. */
  compactMinBytes?: number;
  /** Bytes of live data copied per compaction group. Default 1 MiB. */
  compactStepBytes?: number;
  /**
   * Recover at most this many body bytes (the heads of the queues, shared evenly); the other messages
   * come back without their bodies (RecoveredMessage.bodyBytes) for a paging core to read when needed.
   * Default: every body (for cores that do not page).
   */
  recoverBodyBytes?: number;
  logger?: Logger;
}

export interface JournalStats {
  /** Durable writes of groups (one per group: an O_DSYNC write, or write + fdatasync). */
  syncs: number;
  /** write() calls made durable. */
  batches: number;
  ops: number;
  bytesWritten: number;
  /** Largest number of write() calls that shared one fdatasync. */
  maxBatchesPerSync: number;
  /**
   * Key/value operations never written: a put deleted or replaced, or a delete of a put, within the
   * group being filled (see `deferKv`).
   */
  kvElided: number;
  /**
   * Messages never written: enqueued and dequeued within the group being filled (see `cancelEnqueue`).
   */
  messagesElided: number;
  /** Total milliseconds spent in write+fdatasync of groups. */
  syncMs: number;
  recoveryMs: number;
  recoveredMessages: number;
  tornTailsTruncated: number;
  segments: number;
  /** Bytes of records in all segments (what the files hold, preallocation excluded). */
  dataBytes: number;
  /** Bytes of records still needed. */
  liveBytes: number;
  liveMessages: number;
  /** Live key/value records (MQTT session state). */
  liveKv: number;
  /** Prepared XA branches (xa-prepare records not yet forgotten). */
  preparedXa: number;
  segmentsDeleted: number;
  compactions: number;
  relocatedOps: number;
  /** Messages read back for paging (read + readSync). */
  pagedReads: number;
  /** Paging preads (one per run of nearby records). */
  pagedPreads: number;
  /** Reads resolved again because compaction moved the record and deleted its segment meanwhile. */
  pagedReadRetries: number;
  failed: boolean;
}

interface Head {
  readonly id: number;
  readonly file: string;
  readonly fh: FileHandle;
  pos: number;
  /** Groups written to this segment and their bytes (whether to zero-fill the next spare). */
  groups: number;
  groupBytes: number;
  fileSize: number;
}

/** Something compaction found live in segment `seg`; re-checked when it is encoded. */
type MoveCandidate =
  | { readonly kind: 'message'; readonly queue: string; readonly message: Message }
  | { readonly kind: 'count'; readonly queue: string; readonly id: string }
  | { readonly kind: 'durable'; readonly queue: string }
  | { readonly kind: 'kv'; readonly namespace: string; readonly key: string; readonly value: Uint8Array }
  | { readonly kind: 'xa'; readonly branch: PreparedBranch };

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

/**
 * One group record being filled or waiting for its turn to be written. Its segment is fixed when it
 * starts, from where the groups before it will end, so that its operations enter the index at once.
 */
interface Group {
  /** Groups are numbered in log order; `durableGen` is the last one synced. */
  readonly gen: number;
  readonly seg: number;
  /** File offset of the record in segment `seg` (groups are sealed and written in order). */
  readonly pos: number;
  readonly w: ByteWriter;
  readonly countAt: number;
  ops: number;
  batches: number;
  /** Enqueue and relocate records of the group: (index slot, start in `w`) pairs, in buffer order. */
  readonly slots: number[];
  /** Byte ranges of `w` cut out when the group is sealed (cancelled enqueues): (start, end) pairs. */
  cuts: number[] | undefined;
  /**
   * One promise for every write() of the group, made on the first: all of them become durable (or
   * fail) together, and a promise per write was a measurable share of the CPU at 1,000 writes per sync.
   * Reactions run in registration order, so callers still resume in call order.
   */
  done: Promise<void> | undefined;
  settle: Waiter | undefined;
}

/** The group's shared promise, created on first use. */
function doneOf(g: Group): Promise<void> {
  if (g.done === undefined) {
    g.done = new Promise<void>((resolve, reject) => {
      g.settle = { resolve, reject };
    });
  }
  return g.done;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The message of the enqueue or relocate operation at `buf[start, start + length)` if it is message
 * `id` of `queue`; undefined when those bytes hold something else (the record moved).
 */
function decodeMessageOp(
  buf: Buffer,
  start: number,
  length: number,
  queue: string,
  id: string,
): Message | undefined {
  try {
    const r = new ByteReader(buf, start, start + length);
    const op = decodeOp(r);
    if (r.pos !== start + length) return undefined;
    if (op.type !== 'enqueue' && op.type !== 'relocate') return undefined;
    return op.queue === queue && op.message.id === id ? op.message : undefined;
  } catch {
    return undefined;
  }
}

export class JournalStore implements MessageStore {
  readonly dir: string;
  private readonly segmentSize: number;
  private readonly preallocate: boolean;
  private readonly maxGroupBytes: number;
  private readonly reclaimEnabled: boolean;
  private readonly compactMinBytes: number;
  private readonly compactStepBytes: number;
  private readonly recoverBodyBytes: number;
  private readonly log: Logger;

  private readonly index = new JournalIndex();
  /** Key/value operations of the filling group (deferKv). */
  private readonly pendingKv = new PendingKv();
  private head: Head | undefined;
  private seq = 0;
  private nextOrder = 1;
  /** The group write() encodes into while the previous one is written and synced. */
  private filling: Group | undefined;
  /** Sealed groups waiting to be written, in order. */
  private ready: Group[] = [];
  /** The group being written and synced. */
  private writing: Group | undefined;
  /** Segment descriptors for paging reads, and the reads running (close waits for them). */
  private readonly files: SegmentFiles;
  private readonly reads = new Set<Promise<unknown>>();
  private readonly buffers: ByteWriter[] = [];
  private gen = 0;
  private durableGen = 0;
  /** Where the next sealed group will start: segment and offset. */
  private tailSeg = 0;
  private tailPos = 0;
  /** Deletions decided on an index that included groups not yet durable: run once they are. */
  private deferredDeletes: Array<{ gen: number; ids: number[] }> = [];
  private flushing = false;
  private flushScheduled = false;
  private idleWaiters: Array<() => void> = [];
  private failure: BlazeError | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private releaseLock: (() => Promise<void>) | undefined;

  private spare: { file: string; ready: Promise<boolean>; done: boolean } | undefined;
  /** Whether the next spare is worth zero-filling: the last segment filled had small groups. */
  private spareWanted = true;
  private readonly deleting = new Set<number>();
  private deletions: Promise<void> = Promise.resolve();
  private compacting: Promise<void> | undefined;
  /** Segments compaction could not empty (index and file disagree); never retried. */
  private readonly noCompact = new Set<number>();

  private readonly counters: Omit<
    JournalStats,
    'segments' | 'dataBytes' | 'liveBytes' | 'liveMessages' | 'liveKv' | 'preparedXa' | 'failed' | 'kvElided'
  > = {
    syncs: 0,
    batches: 0,
    ops: 0,
    bytesWritten: 0,
    maxBatchesPerSync: 0,
    messagesElided: 0,
    syncMs: 0,
    recoveryMs: 0,
    recoveredMessages: 0,
    tornTailsTruncated: 0,
    segmentsDeleted: 0,
    compactions: 0,
    relocatedOps: 0,
    pagedReads: 0,
    pagedPreads: 0,
    pagedReadRetries: 0,
  };

  private readonly flushBound = () => void this.flushLoop();

  constructor(options: JournalOptions) {
    this.dir = options.dir;
    this.segmentSize = options.segmentSize ?? 64 * MiB;
    this.preallocate = options.preallocate ?? true;
    this.maxGroupBytes = options.maxGroupBytes ?? 16 * MiB;
    this.reclaimEnabled = options.reclaim ?? true;
    this.compactMinBytes = options.compactMinBytes ?? 2 * this.segmentSize;
    this.compactStepBytes = options.compactStepBytes ?? MiB;
    this.recoverBodyBytes = options.recoverBodyBytes ?? Number.POSITIVE_INFINITY;
    this.log = options.logger ?? silentLogger;
    this.files = new SegmentFiles(this.dir);
  }

  // --- recovery -----------------------------------------------------------------------------------

  async load(): Promise<RecoveredState> {
    const started = performance.now();
    await mkdir(this.dir, { recursive: true });
    this.releaseLock = await acquireLock(this.dir);
    try {
      return await this.recover(started);
    } catch (err) {
      await this.releaseLock();
      this.releaseLock = undefined;
      throw err;
    }
  }

  private async recover(started: number): Promise<RecoveredState> {
    const { spares } = await listSegments(this.dir);
    for (const name of spares) {
      const file = join(this.dir, name);
      // A complete spare is kept (zero-filling one costs a segment's worth of writes); one cut short by
      // a crash holds nothing and is simply removed.
      const size = (await stat(file)).size;
      if (this.preallocate && name === SPARE && size === this.segmentSize && this.spare === undefined) {
        this.spare = { file, done: true, ready: Promise.resolve(true) };
      } else await rm(file, { force: true });
    }

    this.index.bodyless = this.recoverBodyBytes !== Number.POSITIVE_INFINITY;
    const result = await replayJournal(this.dir, this.index, { stopAtCorrupt: true });
    const fatal = result.issues.find((i) => i.kind === 'corrupt' || i.kind === 'unsealed');
    if (fatal !== undefined) {
      throw new BlazeError(
        'STORE',
        `${describeIssue(fatal)}. This is damage to acknowledged data, not a torn write, so the broker ` +
          'will not start and nothing was changed. Inspect with `blazemq store verify`; ' +
          '`blazemq store repair` skips the damaged bytes (the messages they held are lost).',
      );
    }
    const segments = [...result.segments];
    for (const issue of result.issues) {
      if (issue.kind === 'torn-tail') {
        this.log.warn(
          { file: issue.file, offset: issue.offset },
          `journal: ${describeIssue(issue)}; truncated`,
        );
        const fh = await open(issue.file, 'r+');
        try {
          await fh.truncate(issue.offset);
          await fh.sync();
        } finally {
          await fh.close();
        }
        this.counters.tornTailsTruncated++;
      } else if (issue.kind === 'empty-head') {
        this.log.warn({ file: issue.file }, `journal: ${describeIssue(issue)}; removed`);
        await rm(issue.file, { force: true });
        await fsyncDir(this.dir);
        this.index.removeSegment(issue.segment);
        segments.pop();
      }
    }
    this.seq = result.lastSeq;
    this.nextOrder = result.nextOrder;

    const last = segments.at(-1);
    if (last !== undefined && !last.sealed) {
      const fh = await open(last.file, HEAD_OPEN);
      const { size } = await fh.stat();
      this.head = {
        id: last.id,
        file: last.file,
        fh,
        pos: last.dataEnd,
        fileSize: size,
        groups: 0,
        groupBytes: 0,
      };
      // A segment's header version tells readers which operations it may hold: newer operations go to
      // a new segment rather than under an older header (an older build then refuses by version).
      if (last.version < FORMAT_VERSION) await this.rotate(last.id + 1);
    } else {
      this.head = await this.openSegment((last?.id ?? 0) + 1);
    }
    this.tailSeg = this.head.id;
    this.tailPos = this.head.pos;

    let state = this.index.takeRecovered();
    if (this.index.bodyless) state = await this.recoverBodies(state);
    let messages = 0;
    for (const q of state.queues) messages += q.messages.length;
    this.counters.recoveredMessages = messages;
    this.counters.recoveryMs = Math.round(performance.now() - started);
    this.log.info(
      {
        dir: this.dir,
        segments: this.index.segments.size,
        records: result.records,
        ops: result.ops,
        messages,
        queues: state.queues.length,
        durables: state.durables.length,
        kv: state.kv?.length ?? 0,
        preparedXa: state.prepared?.length ?? 0,
        tornTails: this.counters.tornTailsTruncated,
        ms: this.counters.recoveryMs,
      },
      'journal recovered',
    );
    this.startSpare();
    this.reclaimStep();
    return state;
  }

  /** Reads back the bodies of the first messages of each queue, within `recoverBodyBytes`. */
  private async recoverBodies(state: RecoveredState): Promise<RecoveredState> {
    const paged = state.queues.filter((q) => q.messages.some((m) => m.bodyBytes !== undefined));
    if (paged.length === 0) return state;
    const share = this.recoverBodyBytes / paged.length;
    const queues = [];
    for (const q of state.queues) {
      if (!paged.includes(q)) {
        queues.push(q);
        continue;
      }
      let budget = share;
      let n = 0;
      while (n < q.messages.length && (q.messages[n]!.bodyBytes ?? 0) <= budget) {
        budget -= q.messages[n]!.bodyBytes ?? 0;
        n++;
      }
      const head = q.messages.slice(0, n).filter((m) => m.bodyBytes !== undefined);
      const read = await this.read(
        q.queue,
        head.map((m) => m.message.id),
      );
      const whole = new Map<string, Message>();
      for (const m of read) if (m !== undefined) whole.set(m.id, m);
      queues.push({
        queue: q.queue,
        messages: q.messages.map((m, i) => {
          const message = i < n ? whole.get(m.message.id) : undefined;
          return message === undefined ? m : { message, deliveryCount: m.deliveryCount };
        }),
      });
    }
    return { ...state, queues };
  }

  // --- writing ------------------------------------------------------------------------------------

  write(ops: readonly StoreOp[]): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing || this.head === undefined) {
      return Promise.reject(
        new BlazeError(this.closing ? 'CLOSED' : 'STORE', `journal ${this.dir} is not open for writing`),
      );
    }
    // Encoded now, while the previous group is on its way to the disk: the CPU work overlaps the sync.
    const g = this.filling ?? this.startGroup();
    try {
      for (let i = 0; i < ops.length; i++) this.encodeOne(ops[i]!, g);
    } catch (err) {
      this.fail(err, undefined);
      return Promise.reject(this.failure);
    }
    g.batches++;
    const p = doneOf(g);
    if (g.w.pos >= this.maxGroupBytes) this.seal(g);
    this.schedule();
    return p;
  }

  private startGroup(): Group {
    if (this.tailPos >= this.segmentSize) {
      this.tailSeg++;
      this.tailPos = SEGMENT_HEADER_SIZE;
    }
    const w = this.buffers.pop() ?? new ByteWriter(256 * 1024);
    w.reset();
    w.ensure(RECORD_HEADER + 12);
    w.pos = RECORD_HEADER;
    w.f64(this.nextOrder);
    const countAt = w.pos;
    w.u32(0);
    const g: Group = {
      gen: ++this.gen,
      seg: this.tailSeg,
      pos: this.tailPos,
      w,
      countAt,
      ops: 0,
      batches: 0,
      slots: [],
      cuts: undefined,
      done: undefined,
      settle: undefined,
    };
    this.filling = g;
    return g;
  }

  private encodeOne(op: JournalOp, g: Group): void {
    if (op.type === 'kv-put' || op.type === 'kv-delete') this.deferKv(op);
    else if (op.type !== 'dequeue' || !this.cancelEnqueue(op, g)) this.encodeNow(op, g);
  }

  private encodeNow(op: JournalOp, g: Group): void {
    const w = g.w;
    const start = w.pos;
    encodeOp(w, op);
    const order = op.type === 'enqueue' ? this.nextOrder++ : 0;
    const slot = this.index.apply(op, g.seg, g.pos + start, w.pos - start, order, false);
    if (slot >= 0) g.slots.push(slot, start);
    g.ops++;
  }

  /**
   * A dequeue of a message enqueued in this same group: neither is written. The group is atomic (one
   * record, one fdatasync), so after a crash the journal would hold both records or neither, and both
   * read back as "no such message"; a consumer that acknowledges within one group commit of the send
   * (a QoS 1 subscriber keeping up, MQTT W3) then costs no bytes, no checksum and no disk bandwidth.
   * Only an enqueue that replaced no earlier copy of the message qualifies (`cancellable`): otherwise
   * the earlier copy would come back. The enqueue's bytes are cut out of the buffer when the group is
   * sealed (`squeeze`); operations between the two that name the message (a delivery count) stay and
   * are ignored on replay, as they would be after the dequeue.
   */
  private cancelEnqueue(op: Extract<JournalOp, { type: 'dequeue' }>, g: Group): boolean {
    const index = this.index;
    const slot = index.cancellable(op.queue, op.messageId, g.seg, g.pos);
    if (slot < 0) return false;
    const start = index.offsetOf(slot) - g.pos;
    g.cuts ??= [];
    g.cuts.push(start, start + index.bytesOf(slot));
    index.apply(op, g.seg, 0, 0, 0, false);
    g.ops--;
    this.counters.messagesElided++;
    return true;
  }

  /**
   * Cuts the cancelled enqueues out of the group's buffer and moves the index's offsets of the records
   * after them (paging reads a record at its offset, from this buffer until it is written).
   */
  private squeeze(g: Group): void {
    const cuts = g.cuts!;
    g.cuts = undefined;
    const n = cuts.length / 2;
    // Cuts come in dequeue order; the buffer is walked in offset order.
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => cuts[2 * a]! - cuts[2 * b]!);
    const starts = order.map((i) => cuts[2 * i]!);
    const ends = order.map((i) => cuts[2 * i + 1]!);
    const buf = g.w.buf;
    let dst = starts[0]!;
    for (let k = 0; k < n; k++) {
      const from = ends[k]!;
      const to = k + 1 < n ? starts[k + 1]! : g.w.pos;
      buf.copyWithin(dst, from, to);
      dst += to - from;
    }
    g.w.pos = dst;
    // Records after a cut move back by the bytes cut before them. A slot listed whose record is no
    // longer this one (cancelled, or reused by a later enqueue) is skipped.
    const index = this.index;
    const slots = g.slots;
    let k = 0;
    let shift = 0;
    for (let i = 0; i < slots.length; i += 2) {
      const slot = slots[i]!;
      const start = slots[i + 1]!;
      while (k < n && starts[k]! < start) {
        shift += ends[k]! - starts[k]!;
        k++;
      }
      if (shift === 0 || index.segOf(slot) !== g.seg || index.offsetOf(slot) !== g.pos + start) continue;
      index.moveRecord(slot, g.pos + start - shift);
    }
  }

  /**
   * Holds a key/value operation until its group is sealed (kv-pending.ts): only the last operation of
   * a key in a group is written, and a put deleted in the same group not at all. That is the common
   * life of MQTT's outbound record of a QoS 1 delivery, put when the PUBLISH goes out and deleted on
   * PUBACK, which often arrives before the group holding the put is sealed (about half the time in
   * MQTT W3). Key/value operations are thus written after the group's message operations; the two are
   * independent in the index, and the order of the operations of each key is kept.
   */
  private deferKv(op: KvOp): void {
    this.pendingKv.add(op, op.type === 'kv-delete' && this.index.getKv(op.namespace, op.key) !== undefined);
  }

  /** Writes the key/value operations the group held back (deferKv) into it. */
  private encodeKv(g: Group): void {
    if (this.pendingKv.size === 0) return;
    const index = this.index;
    const seg = g.seg;
    g.ops += this.pendingKv.drain(g.w, (op, bytes) => {
      if (op.type === 'kv-put') index.putKv(op.namespace, op.key, seg, bytes, undefined);
      else index.deleteKv(op.namespace, op.key, seg);
    });
  }

  /** Closes the filling group: its record gets its sequence number and checksum and queues for writing. */
  private seal(g: Group): void {
    this.filling = undefined;
    if (g.cuts !== undefined) this.squeeze(g);
    g.slots.length = 0;
    this.encodeKv(g);
    if (g.ops > 0) {
      g.w.buf.writeUInt32LE(g.ops, g.countAt);
      finishRecord(g.w.buf, 0, g.w.pos, ++this.seq, RecordType.group);
      this.tailPos += g.w.pos;
    }
    this.ready.push(g);
  }

  private schedule(): void {
    if (this.flushing || this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate rather than a microtask: every socket read of this loop iteration joins the group.
    setImmediate(this.flushBound);
  }

  private async flushLoop(): Promise<void> {
    this.flushScheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    let g: Group | undefined;
    try {
      for (;;) {
        if (this.failure !== undefined) break;
        if (this.ready.length === 0 && this.filling !== undefined) this.seal(this.filling);
        g = this.ready.shift();
        if (g === undefined) break;
        if (g.ops > 0) {
          this.writing = g;
          if (g.seg !== this.head!.id) await this.rotate(g.seg);
          const t0 = performance.now();
          const h = this.head!;
          // The index recorded offsets from g.pos when the group was filled: they must be where it lands.
          if (h.pos !== g.pos) throw new Error(`journal: group placed at ${g.pos} but written at ${h.pos}`);
          const length = g.w.pos;
          // With O_DSYNC the write returns once the data is durable: it is the group's fdatasync.
          await writeFully(h.fh, g.w.buf, h.pos, 0, length);
          h.pos += length;
          h.groups++;
          h.groupBytes += length;
          if (h.pos > h.fileSize) h.fileSize = h.pos;
          this.index.addSegment(h.id).size = h.pos;
          if (O_DSYNC === undefined) await h.fh.datasync();
          const c = this.counters;
          c.syncMs += performance.now() - t0;
          c.syncs++;
          c.batches += g.batches;
          c.ops += g.ops;
          c.bytesWritten += length;
          if (g.batches > c.maxBatchesPerSync) c.maxBatchesPerSync = g.batches;
        }
        this.durableGen = g.gen;
        this.writing = undefined;
        g.settle?.resolve();
        // A buffer that grew for one huge group is not kept.
        if (g.w.buf.length <= 4 * MiB) this.buffers.push(g.w);
        g = undefined;
        this.reclaimStep();
      }
    } catch (err) {
      this.fail(err, g);
    } finally {
      this.flushing = false;
      if (this.idle()) for (const w of this.idleWaiters.splice(0)) w();
      else if (this.failure === undefined) this.schedule();
    }
  }

  private idle(): boolean {
    return !this.flushing && !this.flushScheduled && this.ready.length === 0 && this.filling === undefined;
  }

  private fail(err: unknown, inFlight: Group | undefined): void {
    const code = (err as NodeJS.ErrnoException).code;
    const e = isBlazeError(err)
      ? err
      : new BlazeError(
          'STORE',
          `journal write failed in ${this.head?.file ?? this.dir}${code ? ` (${code})` : ''}: ` +
            `${(err as Error).message}. The journal accepts no more writes; free space or fix the disk and ` +
            'restart the broker (everything acknowledged before is recovered).',
          { cause: err },
        );
    this.failure ??= e;
    if (e !== err) this.log.error({ err: e }, 'journal failed');
    const groups = [...(inFlight ? [inFlight] : []), ...this.ready, ...(this.filling ? [this.filling] : [])];
    this.ready = [];
    this.filling = undefined;
    this.pendingKv.clear();
    for (const g of groups) g.settle?.reject(this.failure);
  }

  // --- segments -----------------------------------------------------------------------------------

  /** Seals the head, truncates its unused preallocation and opens segment `next` (the one after it). */
  private async rotate(next: number): Promise<void> {
    const old = this.head!;
    if (next !== old.id + 1) throw new Error(`journal: rotation from segment ${old.id} to ${next}`);
    this.spareWanted = old.groups === 0 || old.groupBytes / old.groups < SPARE_MAX_GROUP;
    const seal = encodeRecord(0, RecordType.seal);
    await writeFully(old.fh, seal, old.pos);
    old.pos += seal.length;
    if (old.fileSize > old.pos) await old.fh.truncate(old.pos);
    await old.fh.sync();
    await old.fh.close();
    this.index.addSegment(old.id).size = old.pos;
    this.head = await this.openSegment(next);
    this.startSpare();
  }

  /** Creates segment `id` (from the spare when one is ready) and makes it durable in the directory. */
  private async openSegment(id: number): Promise<Head> {
    const file = join(this.dir, segmentFileName(id));
    let fh: FileHandle;
    let fileSize = 0;
    const spare = this.spare;
    if (spare?.done && (await spare.ready)) {
      this.spare = undefined;
      await rename(spare.file, file);
      fh = await open(file, HEAD_OPEN);
      fileSize = (await fh.stat()).size;
    } else {
      fh = await open(file, HEAD_CREATE, 0o666);
    }
    const header = segmentHeader(id, 0);
    await writeFully(fh, header, 0);
    await fh.datasync();
    await fsyncDir(this.dir);
    this.index.addSegment(id).size = header.length;
    return {
      id,
      file,
      fh,
      pos: header.length,
      fileSize: Math.max(fileSize, header.length),
      groups: 0,
      groupBytes: 0,
    };
  }

  /**
   * Prepares a zero-filled file for the next rotation, in the background, unless the segment filled
   * last had large groups (SPARE_MAX_GROUP): the next segment is then a new file, appended to.
   */
  private startSpare(): void {
    if (!this.preallocate || !this.spareWanted || this.spare !== undefined || this.closing) return;
    const file = join(this.dir, SPARE);
    const entry = { file, done: false, ready: Promise.resolve(false) };
    entry.ready = createZeroFile(file, this.segmentSize).then(
      () => {
        entry.done = true;
        return true;
      },
      async (err: unknown) => {
        this.log.warn({ err }, 'journal: could not preallocate the next segment');
        await rm(file, { force: true }).catch(() => {});
        // Leave `spare` set (done = false) so that a full disk is not retried at every rotation.
        return false;
      },
    );
    this.spare = entry;
  }

  /** After a sync or a deletion: decide and run deletions, and start compaction if it is due. */
  private reclaimStep(): void {
    if (this.failure !== undefined) return;
    this.collectDeletable();
    this.maybeCompact();
  }

  /**
   * Decides which segments no recovery needs. The index may already include groups that are not
   * durable yet, so each decision waits until the newest group it saw is durable.
   */
  private collectDeletable(): void {
    if (!this.reclaimEnabled || this.failure !== undefined || this.head === undefined) return;
    const ids: number[] = [];
    for (const s of this.index.segments.values()) {
      if (!this.deleting.has(s.id) && this.index.deletable(s, this.head.id)) ids.push(s.id);
    }
    if (ids.length > 0) {
      for (const id of ids) this.deleting.add(id);
      this.deferredDeletes.push({ gen: this.gen, ids });
    }
    while (this.deferredDeletes.length > 0 && this.deferredDeletes[0]!.gen <= this.durableGen) {
      this.deleteSegments(this.deferredDeletes.shift()!.ids);
    }
  }

  private deleteSegments(ids: number[]): void {
    this.deletions = this.deletions.then(async () => {
      try {
        for (const id of ids) await rm(join(this.dir, segmentFileName(id)), { force: true });
        // Segments that depend on these may go only once their removal is durable.
        await fsyncDir(this.dir);
        for (const id of ids) {
          this.index.removeSegment(id);
          this.files.evict(id);
        }
        this.counters.segmentsDeleted += ids.length;
        this.log.debug({ segments: ids }, 'journal: segments deleted');
      } catch (err) {
        this.log.warn({ err, segments: ids }, 'journal: could not delete segments');
      } finally {
        for (const id of ids) this.deleting.delete(id);
      }
      // Removals can unblock segments that depended on these; while idle, nothing else would look.
      this.reclaimStep();
    });
  }

  // --- compaction ---------------------------------------------------------------------------------

  private maybeCompact(): void {
    if (!this.reclaimEnabled || this.compacting !== undefined || this.closing) return;
    if (this.pickCompaction() === undefined) return;
    this.compacting = this.compactLoop().finally(() => {
      this.compacting = undefined;
    });
  }

  /** Runs compaction until no segment qualifies. Public for tests and tools. */
  async compactLoop(): Promise<void> {
    for (;;) {
      if (this.closing || this.failure !== undefined) return;
      const target = this.pickCompaction();
      if (target === undefined) return;
      try {
        await this.compactSegment(target);
      } catch (err) {
        this.noCompact.add(target);
        this.log.warn({ err, segment: target }, 'journal: compaction failed');
      }
    }
  }

  /**
   * The segment to compact, if compaction is worth it: at least compactMinBytes and at least as many
   * dead bytes as live ones. The oldest segment that is sparse (under half live) or that dead segments
   * depend on: dependencies point to older segments, so oldest-first unblocks chains.
   */
  private pickCompaction(): number | undefined {
    const index = this.index;
    const head = this.head?.id;
    let data = 0;
    let live = 0;
    const wanted = new Set<number>();
    for (const s of index.segments.values()) {
      data += s.size;
      live += s.liveBytes;
      if (head !== undefined && s.id < head && s.live === 0) for (const d of s.deps) wanted.add(d);
    }
    const dead = data - live;
    if (dead < this.compactMinBytes || dead < live) return undefined;
    for (const s of index.segments.values()) {
      if (head === undefined || s.id >= head || s.live === 0) continue;
      if (this.noCompact.has(s.id) || this.deleting.has(s.id)) continue;
      if (wanted.has(s.id) || s.liveBytes * 2 < s.size) return s.id;
    }
    return undefined;
  }

  /** Copies what is live in segment `id` to the head, in steps; the segment then becomes deletable. */
  private async compactSegment(id: number): Promise<void> {
    const buf = await readFile(join(this.dir, segmentFileName(id)));
    let items: MoveCandidate[] = [];
    let bytes = 0;
    let seen = 0;
    const kvLast = new Map<string, Map<string, Uint8Array>>();
    const scan = new OpScan();
    const submit = async () => {
      if (items.length === 0) return;
      const batch = items;
      items = [];
      bytes = 0;
      await this.writeMoves(id, batch);
    };
    let pos = SEGMENT_MAGIC.length;
    while (pos < buf.length) {
      const r = checkRecordAt(buf, pos, -1);
      if (typeof r === 'string' || r.type === RecordType.seal) break;
      pos += r.length;
      if (r.type !== RecordType.group) continue;
      const reader = new ByteReader(r.payload);
      reader.f64();
      const count = reader.u32();
      for (let i = 0; i < count; i++) {
        // Most operations of an old segment are dead: scanned, not decoded (scan.ts).
        scanOp(reader, scan);
        const index = this.index;
        const code = scan.code;
        if (code === OP_CODES.enqueue || code === OP_CODES.relocate) {
          if (index.segmentOf(scan.queue, scan.id, false) === id) {
            const op = decodeOp(new ByteReader(r.payload, scan.start, scan.end)) as
              | Extract<JournalOp, { type: 'enqueue' }>
              | RelocateOp;
            items.push({ kind: 'message', queue: op.queue, message: op.message });
            bytes += scan.end - scan.start;
          }
        } else if (code === OP_CODES['delivery-count']) {
          if (index.segmentOf(scan.queue, scan.id, true) === id) {
            items.push({ kind: 'count', queue: scan.queue, id: scan.id });
            bytes += scan.end - scan.start;
          }
        } else if (code === OP_CODES['durable-add']) {
          if (index.durables.get(scan.queue)?.seg === id) {
            items.push({ kind: 'durable', queue: scan.queue });
            bytes += scan.end - scan.start;
          }
        } else if (code === OP_CODES['kv-put']) {
          // A key may be put several times in one segment: when its live put is in this segment it is
          // the last of them, so the value is taken once the whole segment has been read.
          if (index.getKv(scan.queue, scan.id)?.seg === id) {
            const op = decodeOp(new ByteReader(r.payload, scan.start, scan.end)) as Extract<
              JournalOp,
              { type: 'kv-put' }
            >;
            let ns = kvLast.get(op.namespace);
            if (ns === undefined) {
              ns = new Map();
              kvLast.set(op.namespace, ns);
            }
            ns.set(op.key, op.value);
          }
        } else if (code === OP_CODES['xa-prepare']) {
          // A prepared branch lives until its forget, however old: it is copied forward like a message.
          const op = decodeOp(new ByteReader(r.payload, scan.start, scan.end)) as Extract<
            JournalOp,
            { type: 'xa-prepare' }
          >;
          if (this.index.xa.get(xidKey(op.xid))?.seg === id) {
            items.push({ kind: 'xa', branch: { xid: op.xid, sends: op.sends, acks: op.acks } });
            bytes += scan.end - scan.start;
          }
        }
        if (bytes >= this.compactStepBytes) await submit();
        // Decoding a whole segment in one go would stall the event loop: let traffic in.
        if (++seen % 512 === 0) await yieldToLoop();
        if (this.closing || this.failure !== undefined) return;
      }
    }
    for (const [namespace, ns] of kvLast) {
      for (const [key, value] of ns) {
        items.push({ kind: 'kv', namespace, key, value });
        bytes += key.length + value.length;
        if (bytes >= this.compactStepBytes) await submit();
        if (this.closing || this.failure !== undefined) return;
      }
    }
    await submit();
    this.counters.compactions++;
    const s = this.index.segments.get(id);
    if (s !== undefined && s.live > 0) {
      this.noCompact.add(id);
      this.log.warn({ segment: id, live: s.live }, 'journal: compaction left live records behind');
    }
  }

  /** Appends the still-live candidates as relocations, at this point of the log. */
  private writeMoves(seg: number, items: readonly MoveCandidate[]): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const g = this.filling ?? this.startGroup();
    try {
      for (const c of items) {
        const op = this.moveOp(c, seg);
        if (op === undefined) continue;
        this.encodeOne(op, g);
        this.counters.relocatedOps++;
      }
    } catch (err) {
      this.fail(err, undefined);
      return Promise.reject(this.failure);
    }
    const p = doneOf(g);
    this.schedule();
    return p;
  }

  private moveOp(c: MoveCandidate, seg: number): JournalOp | undefined {
    const index = this.index;
    switch (c.kind) {
      case 'message': {
        const lm = index.get(c.queue, c.message.id);
        if (lm === undefined || lm.seg !== seg) return undefined;
        return {
          type: 'relocate',
          queue: c.queue,
          order: lm.order,
          deliveryCount: lm.deliveryCount,
          message: c.message,
        };
      }
      case 'count': {
        const lm = index.get(c.queue, c.id);
        if (lm === undefined || lm.dcSeg !== seg) return undefined;
        return { type: 'delivery-count', queue: c.queue, messageId: c.id, deliveryCount: lm.deliveryCount };
      }
      case 'durable': {
        const d = index.durables.get(c.queue);
        if (d === undefined || d.seg !== seg) return undefined;
        return { type: 'durable-add', record: d.record };
      }
      case 'kv': {
        const e = index.getKv(c.namespace, c.key);
        if (e === undefined || e.seg !== seg) return undefined;
        // A put or delete of the key waiting in the filling group replaces the record anyway.
        if (this.pendingKv.has(c.namespace, c.key)) return undefined;
        return { type: 'kv-put', namespace: c.namespace, key: c.key, value: c.value };
      }
      case 'xa': {
        const e = index.xa.get(xidKey(c.branch.xid));
        if (e === undefined || e.seg !== seg) return undefined;
        return { type: 'xa-prepare', ...c.branch };
      }
    }
  }

  // --- paging reads ------------------------------------------------------------------------------

  /** Live messages by id (MessageStore.read): one pread per run of nearby records. */
  read(queue: string, ids: readonly string[]): Promise<(Message | undefined)[]> {
    if (this.closing || this.head === undefined) {
      return Promise.reject(new BlazeError('CLOSED', `journal ${this.dir} is not open for reading`));
    }
    const p = this.readRuns(queue, ids);
    this.reads.add(p);
    const done = () => this.reads.delete(p);
    p.then(done, done);
    return p;
  }

  private async readRuns(queue: string, ids: readonly string[]): Promise<(Message | undefined)[]> {
    const out = new Array<Message | undefined>(ids.length).fill(undefined);
    let todo = ids.map((_, i) => i);
    for (let attempt = 0; todo.length > 0; attempt++) {
      this.checkReadAttempts(attempt, queue, ids, todo);
      const { locations, which } = this.resolve(queue, ids, todo, out);
      const retry: number[] = [];
      await Promise.all(
        planRuns(locations).map(async (run) => {
          let fd: number;
          try {
            fd = await this.files.acquire(run.seg);
          } catch (err) {
            // Deleted since it was resolved: the record was moved; resolve again.
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
            for (const k of run.items) retry.push(which[k]!);
            return;
          }
          try {
            this.counters.pagedPreads++;
            const buf = await readAt(fd, run.length, run.off);
            for (const k of run.items) {
              const i = which[k]!;
              const m = decodeMessageOp(
                buf,
                locations[k]!.off - run.off,
                locations[k]!.bytes,
                queue,
                ids[i]!,
              );
              if (m === undefined) retry.push(i);
              else out[i] = m;
            }
          } finally {
            this.files.release(run.seg);
          }
        }),
      );
      todo = retry;
    }
    return out;
  }

  /** The same, blocking (MessageStore.readSync: browsing). */
  readSync(queue: string, ids: readonly string[]): (Message | undefined)[] {
    if (this.closing || this.head === undefined) {
      throw new BlazeError('CLOSED', `journal ${this.dir} is not open for reading`);
    }
    const out = new Array<Message | undefined>(ids.length).fill(undefined);
    let todo = ids.map((_, i) => i);
    for (let attempt = 0; todo.length > 0; attempt++) {
      this.checkReadAttempts(attempt, queue, ids, todo);
      const { locations, which } = this.resolve(queue, ids, todo, out);
      const retry: number[] = [];
      for (const run of planRuns(locations)) {
        let fd: number;
        try {
          fd = this.files.acquireSync(run.seg);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          for (const k of run.items) retry.push(which[k]!);
          continue;
        }
        try {
          this.counters.pagedPreads++;
          const buf = readAtSync(fd, run.length, run.off);
          for (const k of run.items) {
            const i = which[k]!;
            const m = decodeMessageOp(buf, locations[k]!.off - run.off, locations[k]!.bytes, queue, ids[i]!);
            if (m === undefined) retry.push(i);
            else out[i] = m;
          }
        } finally {
          this.files.release(run.seg);
        }
      }
      todo = retry;
    }
    return out;
  }

  private checkReadAttempts(attempt: number, queue: string, ids: readonly string[], todo: number[]): void {
    if (attempt === 0) this.counters.pagedReads += todo.length;
    else this.counters.pagedReadRetries += todo.length;
    // Each retry means a compaction moved the record and deleted its segment in between: rare twice.
    if (attempt < 4) return;
    throw new BlazeError(
      'STORE',
      `journal ${this.dir}: message ${ids[todo[0]!]} of ${queue} not found where the index says it is`,
    );
  }

  /**
   * Looks `todo` up in the index: records still in a group buffer (not written yet) are decoded from
   * it at once into `out`; the others come back as file locations, `which[k]` naming the id of
   * `locations[k]`. Messages not live stay undefined.
   */
  private resolve(
    queue: string,
    ids: readonly string[],
    todo: readonly number[],
    out: (Message | undefined)[],
  ): { locations: RecordLocation[]; which: number[] } {
    const locations: RecordLocation[] = [];
    const which: number[] = [];
    const at = { seg: 0, off: 0, bytes: 0 };
    for (const i of todo) {
      if (!this.index.locate(queue, ids[i]!, at)) continue;
      const g = this.unwrittenGroupOf(at);
      if (g === undefined) {
        locations.push({ seg: at.seg, off: at.off, bytes: at.bytes });
        which.push(i);
        continue;
      }
      const m = decodeMessageOp(g.w.buf, at.off - g.pos, at.bytes, queue, ids[i]!);
      if (m === undefined) throw new BlazeError('STORE', `journal: group buffer does not hold ${ids[i]}`);
      out[i] = m;
    }
    return { locations, which };
  }

  /** The group holding `at` while it is not written yet (being filled, queued or being written). */
  private unwrittenGroupOf(at: { seg: number; off: number; bytes: number }): Group | undefined {
    const holds = (g: Group | undefined) =>
      g !== undefined && g.seg === at.seg && at.off >= g.pos && at.off + at.bytes <= g.pos + g.w.pos;
    if (holds(this.filling)) return this.filling;
    if (holds(this.writing)) return this.writing;
    for (const g of this.ready) if (holds(g)) return g;
    return undefined;
  }

  // --- lifecycle and observability ----------------------------------------------------------------

  /** Resolves when everything queued so far is durable (or rejected). */
  flushed(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Waits until deletions and compactions that are due have run (tests and tools). */
  async reclaim(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      await this.flushed();
      await this.compacting;
      await this.deletions;
      if (!this.flushing) this.collectDeletable();
      this.maybeCompact();
      if (this.compacting === undefined && this.deleting.size === 0) return;
    }
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown(false);
    return this.closed;
  }

  /**
   * Stops at once as a crash would between two groups: writes not yet written are rejected and never
   * reach the disk. For tests of recovery.
   */
  abort(): Promise<void> {
    if (this.failure === undefined) {
      this.fail(
        new BlazeError('CLOSED', `journal ${this.dir} aborted before this write was durable`),
        undefined,
      );
    }
    this.closed ??= this.shutdown(true);
    return this.closed;
  }

  private async shutdown(aborted: boolean): Promise<void> {
    this.closing = true;
    if (!aborted) await this.compacting?.catch(() => {});
    await this.flushed();
    await this.deletions;
    await this.spare?.ready;
    // A finished spare stays for the next start.
    if (this.spare !== undefined && !this.spare.done)
      await rm(this.spare.file, { force: true }).catch(() => {});
    await this.head?.fh.close().catch(() => {});
    this.head = undefined;
    while (this.reads.size > 0) await Promise.allSettled([...this.reads]);
    this.files.closeAll();
    await this.releaseLock?.();
    this.releaseLock = undefined;
  }

  stats(): JournalStats {
    let segments = 0;
    let dataBytes = 0;
    let liveBytes = 0;
    for (const s of this.index.segments.values()) {
      segments++;
      dataBytes += s.size;
      liveBytes += s.liveBytes;
    }
    return {
      ...this.counters,
      syncMs: Math.round(this.counters.syncMs),
      segments,
      dataBytes,
      liveBytes,
      liveMessages: this.index.liveMessages,
      liveKv: this.index.liveKv,
      kvElided: this.pendingKv.elided,
      preparedXa: this.index.xa.size,
      failed: this.failure !== undefined,
    };
  }

  /** On-disk size of the journal directory's segment files (tests, admin). */
  async diskBytes(): Promise<number> {
    const { ids } = await listSegments(this.dir);
    let n = 0;
    for (const id of ids)
      n += (await stat(join(this.dir, segmentFileName(id))).catch(() => ({ size: 0 }))).size;
    return n;
  }
}
