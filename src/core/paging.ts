/**
 * Paging persistent messages out of memory (issue 3, "Memory limits and flow control"; docs/STORAGE.md
 * "Paging").
 *
 * What is paged: the BODY of a pending message of a stored queue (a queue or a durable subscription)
 * once its enqueue is durable. The queue keeps its entry, with a stub of the message that has every
 * header and property but an empty body: priority order, selectors, message groups, expiry, browsing
 * order, acks and redelivery all work on the stub, and the memory it still costs is the entry overhead
 * (MESSAGE_OVERHEAD). Messages in flight (delivered, not acked) are never paged: a consumer holds them.
 *
 * When: while the queue or the broker is above PAGE_RATIO (core/memory.ts) of its memory limit (`pressure`), each time
 * a store batch of the queue becomes durable the queue pages out its newest resident pending messages
 * until what it keeps resident is at most its window (none for a queue without consumers). Producers of
 * persistent messages to a paging queue therefore do not wait for the memory limit unless the stubs and
 * in-flight messages alone exceed it; other producers keep today's flow control (core/memory.ts).
 *
 * Page-in: dispatch stays synchronous. A pass that reaches a paged entry some consumer would take stops
 * there (so order is kept) and starts an asynchronous read of the next batch from that entry; and when a
 * queue with consumers has fewer than `lowWater` resident pending messages, the next batch is read ahead
 * if memory allows. One read per queue at a time; when it lands the entries get their bodies back and a
 * dispatch pass runs.
 *
 * Where a whole message is needed synchronously (browsing, an operator's move) the store's `readSync`
 * pages the entries in on the spot; an expired or dead-lettered paged message is read asynchronously
 * before its DLQ copy is made (the dequeue and the DLQ enqueue still share one batch).
 */
import type { Message } from './message.js';

/** What the core reads paged messages back from: the MessageStore's optional reads. */
export interface PageSource {
  read(queue: string, ids: readonly string[]): Promise<(Message | undefined)[]>;
  readSync(queue: string, ids: readonly string[]): (Message | undefined)[];
}

export interface PagingOptions {
  /** Messages per page-in read at most. Default 256. */
  batchMessages?: number;
  /** Body bytes per page-in read at most (at least one message is read). Default 1 MiB. */
  batchBytes?: number;
  /**
   * Resident body bytes a queue with consumers keeps at its head while paging (its dispatch window).
   * Default 2 x batchBytes.
   */
  windowBytes?: number;
  /** A queue with consumers reads ahead when fewer pending messages than this are resident. Default 64. */
  lowWater?: number;
  /** Delay before a failed page-in is retried. Default 1000 ms. */
  retryMs?: number;
}

export interface PagingStats {
  /** Messages whose body is out of memory now. */
  readonly paged: number;
  /** Bodies dropped from memory since start. */
  readonly pagedOut: number;
  /** Bodies read back since start (asynchronous page-ins and synchronous reads). */
  readonly pagedIn: number;
  /** Store reads issued (each reads a batch). */
  readonly reads: number;
  readonly readFailures: number;
}

const MiB = 1024 * 1024;

/** The broker-wide paging state: the store to read from, settings and counters. */
export class Pager {
  readonly batchMessages: number;
  readonly batchBytes: number;
  readonly windowBytes: number;
  readonly lowWater: number;
  readonly retryMs: number;
  /** Body bytes of resident pending messages of all paging queues (PriorityList keeps it current). */
  readonly resident = { residentBytes: 0 };
  paged = 0;
  pagedOut = 0;
  pagedIn = 0;
  reads = 0;
  readFailures = 0;

  constructor(
    readonly source: PageSource,
    options: PagingOptions = {},
  ) {
    this.batchMessages = Math.max(1, options.batchMessages ?? 256);
    this.batchBytes = Math.max(1, options.batchBytes ?? MiB);
    this.windowBytes = options.windowBytes ?? 2 * this.batchBytes;
    this.lowWater = options.lowWater ?? 64;
    this.retryMs = options.retryMs ?? 1000;
  }

  stats(): PagingStats {
    return {
      paged: this.paged,
      pagedOut: this.pagedOut,
      pagedIn: this.pagedIn,
      reads: this.reads,
      readFailures: this.readFailures,
    };
  }
}

/** The store's reads as a PageSource, when it has both. */
export function pageSourceOf(store: Partial<PageSource>): PageSource | undefined {
  if (store.read === undefined || store.readSync === undefined) return undefined;
  return {
    read: (queue, ids) => store.read!(queue, ids),
    readSync: (queue, ids) => store.readSync!(queue, ids),
  };
}

const EMPTY_BODY = new Uint8Array(0);

/** The message without its body: what a paged-out queue entry keeps. */
export function stubOf(message: Message): Message {
  return { ...message, body: EMPTY_BODY };
}
