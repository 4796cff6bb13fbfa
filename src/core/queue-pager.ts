/**
 * The paging half of a stored queue (core/paging.ts has the rules): which entries are durable, paging
 * the newest resident ones out under memory pressure, and reading bodies back, ahead of dispatch or
 * on demand. The queue keeps dispatch; this class never delivers anything.
 */
import { BlazeError, isBlazeError } from '../util/errors.js';
import type { CoreContext } from './context.js';
import type { PriorityList, QueueEntry } from './entry-list.js';
import type { MemoryMeter } from './memory.js';
import type { Message } from './message.js';
import { type Pager, stubOf } from './paging.js';
import type { TimerHandle } from './scheduler.js';

/** What the pager needs of its queue (implemented by Queue). */
export interface PagingHost {
  readonly key: string;
  readonly pending: PriorityList;
  readonly memory: MemoryMeter;
  readonly deleted: boolean;
  readonly consumerCount: number;
  requestDispatch(): void;
  /** A paged entry whose message the store no longer has: take it out of the queue. */
  lost(e: QueueEntry): void;
}

interface DurableWatch {
  readonly p: Promise<void>;
  /** Entries below this seq are in the batch behind `p`. */
  seq: number;
}

function noop(): void {}

export class QueuePager {
  /** Every entry with a lower seq has its enqueue durable (the store resolves writes in call order). */
  private durableSeq = 0;
  private watch: DurableWatch | undefined;
  private reading = false;
  private retry: TimerHandle | undefined;

  constructor(
    private readonly q: PagingHost,
    private readonly ctx: CoreContext,
    readonly pager: Pager,
  ) {}

  /** Above PAGE_RATIO of the queue's or the broker's limit. */
  pressure(): boolean {
    return this.q.memory.used > this.q.memory.pageAt || this.ctx.memory.used > this.ctx.memory.pageAt;
  }

  /**
   * Entry `seq` was just added to the store writer's batch: note when that batch is durable (one
   * callback per batch and queue, not per message).
   */
  written(seq: number): void {
    const p = this.ctx.writer!.durable();
    const w = this.watch;
    if (w !== undefined && w.p === p) {
      w.seq = seq + 1;
      return;
    }
    const next: DurableWatch = { p, seq: seq + 1 };
    this.watch = next;
    // A failed batch is not durable: its entries keep their bodies (they can never be read back).
    p.then(() => this.durable(next.seq), noop);
  }

  /** A recovered entry that came without its body: it starts paged out. */
  recoveredPaged(e: QueueEntry, bodyBytes: number): void {
    this.q.pending.startPaged(e, bodyBytes);
    this.pager.paged++;
  }

  /** A recovered entry (durable by definition): the newest are paged out at once under pressure. */
  recovered(e: QueueEntry): void {
    if (e.seq >= this.durableSeq) this.durableSeq = e.seq + 1;
    if (this.pressure()) this.relieve();
  }

  private durable(seq: number): void {
    if (seq > this.durableSeq) this.durableSeq = seq;
    if (this.watch?.seq === seq) this.watch = undefined;
    if (!this.q.deleted && this.pressure()) this.relieve();
  }

  /**
   * Pages out the newest durable resident pending entries until the pressure is gone or the queue
   * keeps only its window resident (none without consumers). Newest first along the list's resident
   * list (entries that came back, next to be delivered, are at its head): each call costs what it
   * pages out plus the newest entries not yet durable (at most a batch), never a walk over stubs.
   * Priorities are not looked at: a high-priority message paged out is simply read back first.
   */
  relieve(): void {
    const list = this.q.pending;
    const window = this.q.consumerCount > 0 ? this.pager.windowBytes : 0;
    for (let e = list.residentTail(); e !== undefined; ) {
      if (list.residentBytes <= window || !this.pressure()) return;
      const older = e.rPrev;
      if (e.seq < this.durableSeq) this.pageOut(e);
      e = older;
    }
  }

  private pageOut(e: QueueEntry): void {
    const bytes = e.bodyBytes;
    this.q.pending.pageOut(e, stubOf(e.message));
    this.q.memory.sub(bytes);
    this.ctx.memory.sub(bytes);
    this.pager.paged++;
    this.pager.pagedOut++;
  }

  /** Gives `e` its body back (`m`, read from the store). */
  private pageInEntry(e: QueueEntry, m: Message): void {
    const bytes = e.bodyBytes;
    this.q.pending.pageIn(e, m);
    this.q.memory.add(bytes);
    this.ctx.memory.add(bytes);
    this.pager.paged--;
    this.pager.pagedIn++;
  }

  /** The entry left the queue while paged out (acked, dropped, expired). */
  left(e: QueueEntry): void {
    if (e.paged) this.pager.paged--;
  }

  /**
   * Flow control for a persistent send just added: it waits at a closed gate only when what paging
   * cannot drop (stubs, in-flight and non-persistent messages) is over the limit by itself.
   */
  flow(): void {
    const m = this.q.memory;
    if (m.gate.closed && m.used - this.q.pending.residentBytes > m.limit) this.ctx.flow.hit(m.gate);
    const g = this.ctx.memory;
    if (g.gate.closed && g.used - this.pager.resident.residentBytes > g.limit) this.ctx.flow.hit(g.gate);
  }

  /** Reads ahead when a queue with consumers is low on resident pending messages and memory allows. */
  readAhead(): void {
    const list = this.q.pending;
    if (this.reading || list.paged === 0 || this.q.consumerCount === 0) return;
    if (list.length - list.paged >= this.pager.lowWater) return;
    const room = this.pager.batchBytes;
    const m = this.q.memory;
    const g = this.ctx.memory;
    // Nothing resident to deliver: read anyway, or a full broker would starve this queue for good.
    if (list.length > list.paged && (m.used + room > m.pageAt || g.used + room > g.pageAt)) return;
    this.pageIn(undefined);
  }

  /**
   * Reads the next batch of paged entries in delivery order, from `from` (a paged entry a consumer is
   * waiting for) or from the head. One read at a time per queue.
   */
  pageIn(from: QueueEntry | undefined): void {
    if (this.reading || this.retry !== undefined || this.q.deleted) return;
    const list = this.q.pending;
    const batch: QueueEntry[] = [];
    let bytes = 0;
    for (let e = from ?? list.first(); e !== undefined; e = list.after(e)) {
      if (!e.paged) continue;
      batch.push(e);
      bytes += e.bodyBytes;
      if (batch.length >= this.pager.batchMessages || bytes >= this.pager.batchBytes) break;
    }
    if (batch.length === 0) return;
    this.reading = true;
    this.read(batch).then(
      (messages) => this.landed(batch, messages),
      (err: unknown) => this.failed(err),
    );
  }

  /** One asynchronous store read of `entries` (a store that throws rejects instead). */
  private read(entries: readonly QueueEntry[]): Promise<(Message | undefined)[]> {
    this.pager.reads++;
    try {
      return this.pager.source.read(this.q.key, ids(entries));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private landed(batch: readonly QueueEntry[], messages: readonly (Message | undefined)[]): void {
    this.reading = false;
    if (this.q.deleted) return;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      // Taken meanwhile (purged, expired, paged in by a browse): nothing to do.
      if (!e.paged || !e.linked) continue;
      const m = messages[i];
      if (m === undefined || m.id !== e.message.id) this.q.lost(e);
      else this.pageInEntry(e, m);
    }
    this.q.requestDispatch();
  }

  private failed(err: unknown): void {
    this.reading = false;
    // The store closed under a read (shutdown): nothing to retry.
    if (isBlazeError(err) && err.code === 'CLOSED') return;
    this.pager.readFailures++;
    this.ctx.log.error({ err, queue: this.q.key }, 'page-in failed; retrying');
    if (this.q.deleted) return;
    this.retry = this.ctx.scheduler.setTimer(() => {
      this.retry = undefined;
      this.q.requestDispatch();
      this.readAhead();
    }, this.pager.retryMs);
  }

  /**
   * Pages `entries` in now, blocking (browse: the browser sees whole messages). Entries that are not
   * paged are left alone; linked ones stay resident until pressure pages them out again. Throws STORE
   * when the store cannot read them; nothing is changed then.
   */
  pageInSync(entries: readonly QueueEntry[]): void {
    const paged = entries.filter((e) => e.paged);
    if (paged.length === 0) return;
    const messages = this.readSync(paged);
    for (let i = 0; i < paged.length; i++) this.pageInEntry(paged[i]!, messages[i]!);
  }

  /** The whole messages of paged `entries`, in order, without touching the entries (blocking). */
  readSync(entries: readonly QueueEntry[]): Message[] {
    let messages: (Message | undefined)[];
    this.pager.reads++;
    try {
      messages = this.pager.source.readSync(this.q.key, ids(entries));
    } catch (err) {
      this.pager.readFailures++;
      throw new BlazeError('STORE', `could not read paged-out messages of ${this.q.key}`, { cause: err });
    }
    return entries.map((e, i) => {
      const m = messages[i];
      if (m === undefined || m.id !== e.message.id) {
        throw new BlazeError(
          'STORE',
          `paged-out message ${e.message.id} of ${this.q.key} is not in the store`,
        );
      }
      return m;
    });
  }

  /**
   * Gives unlinked paged `entries` (taken out of the queue, e.g. to be dead-lettered) their bodies
   * asynchronously, then calls `done(true)`; `done(false)` when the store could not read them.
   */
  fetch(entries: readonly QueueEntry[], done: (ok: boolean) => void): void {
    this.read(entries).then(
      (messages) => {
        for (let i = 0; i < entries.length; i++) {
          const e = entries[i]!;
          const m = messages[i];
          if (m === undefined || m.id !== e.message.id) {
            this.ctx.log.error(
              { queue: this.q.key, id: e.message.id },
              'paged-out message missing from the store',
            );
            continue;
          }
          // The entry is out of the list: only the accounting of what it holds changes.
          this.pageInEntry(e, m);
        }
        done(true);
      },
      (err: unknown) => {
        this.pager.readFailures++;
        this.ctx.log.error({ err, queue: this.q.key }, 'could not read paged-out messages');
        done(false);
      },
    );
  }
}

function ids(entries: readonly QueueEntry[]): string[] {
  const out = new Array<string>(entries.length);
  for (let i = 0; i < entries.length; i++) out[i] = entries[i]!.message.id;
  return out;
}
