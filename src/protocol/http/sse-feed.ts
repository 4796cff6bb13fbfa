/**
 * Topic streams with history (sse-history.ts): one recorder per streamed (topic address, selector) and any
 * number of SSE streams reading from its ring, each with its own cursor.
 *
 * The recorder is a core subscription (auto acks, never paused) on a connection of the first streaming
 * user; every message it receives goes into the ring, then each stream writes what it has not written yet.
 * Back-pressure: a stream whose response is full stops at its cursor and resumes on `drain`; the ring is
 * the buffer, bounded by count and bytes, so a slow browser costs no memory of its own. One that falls out
 * of the ring gets a `gap` event saying how many messages it lost; one that does not drain within the
 * slow-consumer timeout is cut off, as other SSE streams are. Producers are never held by a browser here:
 * for topics streamed with history the slow-subscriber policy is "drop the oldest, tell the browser".
 *
 * Encoding: every stream at the head of the ring writes the same bytes for a message, so the recorder
 * encodes each (message, format) once and hands the same Buffer to all of them (a small direct-mapped cache
 * by sequence number, which also serves streams catching up together after a drain). Profiled on the
 * 500-stream fan-out benchmark, per-stream encoding was ~12% of the broker's busy time (docs/PERFORMANCE.md).
 *
 * After the last stream of a recorder closes it goes on recording for `retentionMs`, so that a browser
 * that reconnects (network blip, page reload) finds what it missed; then it is closed. At most
 * `maxRecorders` exist: beyond it an idle one is dropped, or the new stream gets no history.
 */
import type { CoreConnection, Delivery, DeliverySink, Subscription } from '../../core/api.js';
import type { Message } from '../../core/message.js';
import { encodeEvent } from './sse-codec.js';
import { messageEvent, type SseFormat } from './sse-format.js';
import { HistoryRing } from './sse-history.js';
import { type SseCloseReason, type SseOutput, SseWriter } from './sse-writer.js';

/** Encoded events kept per format (direct-mapped by sequence number); larger events are not kept. */
const ENCODED_SLOTS = 16;
const ENCODED_MAX_BYTES = 16 * 1024;

/** The encoded events of one format: slot `seq % ENCODED_SLOTS` holds sequence `seqs[slot]`. */
class EncodedCache {
  private readonly seqs = new Float64Array(ENCODED_SLOTS).fill(-1);
  private readonly events: Array<Buffer | undefined> = new Array(ENCODED_SLOTS);

  get(seq: number): Buffer | undefined {
    const slot = seq % ENCODED_SLOTS;
    return this.seqs[slot] === seq ? this.events[slot] : undefined;
  }

  set(seq: number, event: Buffer): void {
    if (event.length > ENCODED_MAX_BYTES) return;
    const slot = seq % ENCODED_SLOTS;
    this.seqs[slot] = seq;
    this.events[slot] = event;
  }
}

export interface FeedOptions {
  maxMessages: number;
  maxBytes: number;
  retentionMs: number;
  maxRecorders: number;
}

class Recorder implements DeliverySink {
  readonly ring: HistoryRing;
  readonly streams = new Set<FeedStream>();
  private subscription: Subscription | undefined;
  retention: NodeJS.Timeout | undefined;
  ended = false;
  private readonly encoded: Record<SseFormat, EncodedCache> = {
    text: new EncodedCache(),
    json: new EncodedCache(),
  };

  constructor(
    readonly key: string,
    private readonly connection: CoreConnection,
    address: string,
    selector: string | undefined,
    options: FeedOptions,
    private readonly onClosed: (r: Recorder) => void,
  ) {
    this.ring = new HistoryRing(options.maxMessages, options.maxBytes);
    const sub = { address, ackMode: 'auto' as const, prefetch: 1000 };
    this.subscription = connection.subscribe(selector !== undefined ? { ...sub, selector } : sub, this);
  }

  /** Message `seq` of the ring as an event in `format`, encoded once for all streams. */
  event(seq: number, format: SseFormat): Buffer {
    const cache = this.encoded[format];
    const hit = cache.get(seq);
    if (hit !== undefined) return hit;
    const event = Buffer.from(
      encodeEvent(messageEvent(this.ring.at(seq) as Message, format, this.ring.idOf(seq))),
      'utf8',
    );
    cache.set(seq, event);
    return event;
  }

  deliver(_s: Subscription, d: Delivery): void {
    this.ring.append(d.message);
    for (const s of this.streams) s.pump();
  }

  /** The core ended the subscription (temporary topic gone, connection evicted): the streams end too. */
  closed(): void {
    this.close();
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.retention) clearTimeout(this.retention);
    for (const s of [...this.streams]) s.close('broker');
    try {
      this.subscription?.close();
    } finally {
      this.subscription = undefined;
      this.connection.close();
      this.onClosed(this);
    }
  }
}

export interface FeedStreamOptions {
  format: SseFormat;
  heartbeatMs: number;
  slowConsumerTimeoutMs: number;
  now?: () => number;
}

/** One SSE response reading a recorder's ring from its cursor. */
export class FeedStream {
  private cursor: number;
  private readonly writer: SseWriter;
  private closedReason: SseCloseReason | undefined;

  constructor(
    out: SseOutput,
    private readonly recorder: Recorder,
    after: number,
    missed: number | null,
    private readonly options: FeedStreamOptions,
    private readonly onClosed: (reason: SseCloseReason) => void,
  ) {
    this.cursor = after;
    this.writer = new SseWriter(out, options, {
      paused: () => {},
      drained: () => this.pump(),
      slow: () => this.close('slow'),
    });
    if (missed !== 0) this.gap(missed);
  }

  get closedBy(): SseCloseReason | undefined {
    return this.closedReason;
  }

  /** Writes what the ring holds past the cursor until the output is full. */
  pump(): void {
    const ring = this.recorder.ring;
    while (!this.writer.paused && !this.closedReason && this.cursor < ring.lastSeq) {
      if (this.cursor + 1 < ring.oldestSeq) {
        // Fell out of the ring while the browser was not reading.
        this.gap(ring.oldestSeq - 1 - this.cursor);
        this.cursor = ring.oldestSeq - 1;
        continue;
      }
      const seq = this.cursor + 1;
      this.cursor = seq;
      this.writer.write(this.recorder.event(seq, this.options.format));
    }
  }

  close(reason: SseCloseReason): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.writer.close(reason);
    this.onClosed(reason);
  }

  /**
   * `event: gap`, data `{"missed": n}` (n = null when unknown). Its id is the cursor's, so that a client
   * reconnecting right after it does not get the gap again.
   */
  private gap(missed: number | null): void {
    const ring = this.recorder.ring;
    this.writer.write(
      encodeEvent({ id: ring.idOf(this.cursor), event: 'gap', data: JSON.stringify({ missed }) }),
    );
  }
}

export interface AttachRequest {
  address: string;
  selector: string | undefined;
  lastEventId: string | undefined;
  /** Opens the recorder's core connection (the first streaming user's), when a recorder is needed. */
  connect: () => CoreConnection;
  out: SseOutput;
  stream: FeedStreamOptions;
  onClosed: (reason: SseCloseReason) => void;
}

/** The recorders of the SSE endpoint. */
export class TopicFeeds {
  private readonly recorders = new Map<string, Recorder>();

  constructor(private readonly options: FeedOptions) {}

  get size(): number {
    return this.recorders.size;
  }

  get enabled(): boolean {
    return this.options.maxMessages > 0 && this.options.maxBytes > 0 && this.options.maxRecorders > 0;
  }

  /**
   * A stream of the (address, selector) feed, resumed after `lastEventId`; undefined when no recorder can
   * be had (limit reached with none idle): the caller then streams without history. Throws what the core's
   * subscribe throws (FORBIDDEN, INVALID_ADDRESS, INVALID_SELECTOR) when it must create the recorder; the
   * caller has checked the user's own permission before.
   */
  attach(r: AttachRequest): FeedStream | undefined {
    const key = `${r.address}\0${r.selector ?? ''}`;
    let recorder = this.recorders.get(key);
    if (!recorder) {
      if (this.recorders.size >= this.options.maxRecorders && !this.evictIdle()) return undefined;
      const connection = r.connect();
      try {
        recorder = new Recorder(key, connection, r.address, r.selector, this.options, (rec) => {
          if (this.recorders.get(rec.key) === rec) this.recorders.delete(rec.key);
        });
      } catch (err) {
        connection.close();
        throw err;
      }
      this.recorders.set(key, recorder);
    }
    const rec = recorder;
    if (rec.retention) {
      clearTimeout(rec.retention);
      rec.retention = undefined;
    }
    const { after, missed } = rec.ring.resumeFrom(r.lastEventId);
    const stream: FeedStream = new FeedStream(r.out, rec, after, missed, r.stream, (reason) => {
      rec.streams.delete(stream);
      if (rec.streams.size === 0 && !rec.ended) {
        rec.retention = setTimeout(() => rec.close(), this.options.retentionMs);
        rec.retention.unref();
      }
      r.onClosed(reason);
    });
    rec.streams.add(stream);
    stream.pump();
    return stream;
  }

  close(): void {
    for (const r of [...this.recorders.values()]) r.close();
  }

  /** Drops the recorder idle the longest (no streams); false when every one is streaming. */
  private evictIdle(): boolean {
    for (const r of this.recorders.values()) {
      if (r.streams.size === 0) {
        r.close();
        return true;
      }
    }
    return false;
  }
}
