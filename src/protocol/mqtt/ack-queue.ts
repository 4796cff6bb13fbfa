/**
 * Acknowledgements of incoming PUBLISHes, written in the order the PUBLISHes arrived: [MQTT-4.6.0-2]
 * (PUBACK) and [MQTT-4.6.0-3] (PUBREC) require it, while the core answers a persistent send only once
 * the store has it and a refused send at once. An ack the core gave synchronously (the shared ACCEPTED
 * promise) with nothing queued before it is written at once, without a microtask per message.
 *
 * Cost per PUBLISH. The acks of one store batch all wait on the same promise (core/store-writer.ts), so
 * consecutive acks with the same promise form one group with one `then`; a PUBACK / PUBREC is kept as
 * its type and packet id in parallel arrays, built into bytes by the sink when its group completes. A
 * QoS 1 publisher with 1,000 PUBLISHes in flight used to hold an entry, two closures and a promise
 * reaction per PUBLISH until the group commit, long enough for V8 to copy them out of the young
 * generation (docs/PERFORMANCE.md, MQTT W3).
 *
 * Groups normally complete in order (the store resolves batches in call order); one that completes
 * early (a send refused at once) has its acks built then (their side effects, such as forgetting a QoS 2
 * packet id, happen when the outcome is known) and written once every earlier group is written.
 */
import { ACCEPTED } from '../../core/index.js';

export type PublishAckType = 'puback' | 'pubrec';

export interface AckSink {
  writeAck(bytes: Uint8Array): void;
  /** An ack was written or dropped (flow control may resume reading). */
  ackProgressed(): void;
  /** The bytes of a PUBACK / PUBREC whose PUBLISH the core accepted (null: write nothing). */
  publishAccepted(type: PublishAckType, packetId: number): Uint8Array | null;
  /** The same for a refused PUBLISH; `onFail` is what `addPublish` was given. */
  publishRefusedAck(
    type: PublishAckType,
    packetId: number,
    error: unknown,
    onFail: ((error: unknown) => void) | undefined,
  ): Uint8Array | null;
}

type Build = () => Uint8Array | null;
type BuildFailed = (error: unknown) => Uint8Array | null;
type OnFail = (error: unknown) => void;

/** An ack with builders of its own (SUBACK release, durable PUBREL / PUBCOMP): rare, one object each. */
class GenericAck {
  constructor(
    readonly ok: Build,
    readonly failed: BuildFailed,
  ) {}
}

/** Acks waiting on one promise. */
class Group {
  /** Index just past its last ack; grows while acks with the same promise are added. */
  end: number;
  done = false;

  constructor(
    readonly result: Promise<void>,
    /** Index of its first ack. */
    public start: number,
  ) {
    this.end = start + 1;
  }
}

const GENERIC = -1;
/** Written acks are dropped from the front of the arrays once this many have piled up. */
const COMPACT_AT = 1024;

export class AckQueue {
  // One slot per ack, in arrival order: a PUBLISH ack is `packetId * 2 + (PUBREC ? 1 : 0)` with its
  // failure hook (or undefined) in `extras`; any other ack is GENERIC with its GenericAck there.
  private codes: number[] = [];
  private extras: Array<GenericAck | OnFail | undefined> = [];
  /** Acks before this index are written. */
  private head = 0;
  private groups: Group[] = [];
  private groupHead = 0;
  /** Bytes built for acks of a group that completed before an earlier one, by index. */
  private readonly built = new Map<number, Uint8Array | null>();
  private stopped = false;

  constructor(private readonly sink: AckSink) {}

  /** Acks queued and not yet written. */
  get pending(): number {
    return this.codes.length - this.head;
  }

  /**
   * Queues the ack of an operation completing with `result`; `ok` / `failed` build its bytes then (null
   * writes nothing).
   */
  add(result: Promise<void>, ok: Build, failed: BuildFailed): void {
    if (result === ACCEPTED && this.pending === 0) {
      const bytes = ok();
      if (bytes !== null) this.sink.writeAck(bytes);
      return;
    }
    this.codes.push(GENERIC);
    this.extras.push(new GenericAck(ok, failed));
    this.join(result);
  }

  /** The PUBACK / PUBREC of an incoming PUBLISH, built by the sink (`publishAccepted`...) once known. */
  addPublish(result: Promise<void>, type: PublishAckType, packetId: number, onFail?: OnFail): void {
    if (result === ACCEPTED && this.pending === 0) {
      const bytes = this.sink.publishAccepted(type, packetId);
      if (bytes !== null) this.sink.writeAck(bytes);
      return;
    }
    this.codes.push(packetId * 2 + (type === 'pubrec' ? 1 : 0));
    this.extras.push(onFail);
    this.join(result);
  }

  /** The connection is gone: late completions write nothing. */
  stop(): void {
    this.stopped = true;
  }

  /** Adds the ack just pushed to the group of `result`: the last one, or a new one. */
  private join(result: Promise<void>): void {
    const groups = this.groups;
    const last = groups.length > this.groupHead ? groups[groups.length - 1]! : undefined;
    if (last !== undefined && last.result === result && !last.done) {
      last.end = this.codes.length;
      return;
    }
    const g = new Group(result, this.codes.length - 1);
    groups.push(g);
    result.then(
      () => this.complete(g, false, undefined),
      (e: unknown) => this.complete(g, true, e),
    );
  }

  private build(i: number, failed: boolean, error: unknown): Uint8Array | null {
    const code = this.codes[i]!;
    const extra = this.extras[i];
    if (code === GENERIC) {
      const g = extra as GenericAck;
      return failed ? g.failed(error) : g.ok();
    }
    const type: PublishAckType = (code & 1) === 1 ? 'pubrec' : 'puback';
    const packetId = code >>> 1;
    if (!failed) return this.sink.publishAccepted(type, packetId);
    return this.sink.publishRefusedAck(type, packetId, error, extra as OnFail | undefined);
  }

  private complete(g: Group, failed: boolean, error: unknown): void {
    if (this.stopped) return;
    g.done = true;
    if (this.groups[this.groupHead] !== g) {
      // An earlier group is still waiting: build now (the outcome is known), write in turn.
      for (let i = g.start; i < g.end; i++) this.built.set(i, this.build(i, failed, error));
      this.sink.ackProgressed();
      return;
    }
    for (let i = g.start; i < g.end; i++) {
      const bytes = this.build(i, failed, error);
      this.release(i);
      if (bytes !== null) this.sink.writeAck(bytes);
      if (this.stopped) return;
    }
    this.groupHead++;
    // Groups that completed early, now next in line.
    while (this.groupHead < this.groups.length && this.groups[this.groupHead]!.done) {
      const next = this.groups[this.groupHead]!;
      for (let i = next.start; i < next.end; i++) {
        const bytes = this.built.get(i) ?? null;
        this.built.delete(i);
        this.release(i);
        if (bytes !== null) this.sink.writeAck(bytes);
        if (this.stopped) return;
      }
      this.groupHead++;
    }
    this.compact();
    this.sink.ackProgressed();
  }

  /** Ack `i` is written: drop what it held. */
  private release(i: number): void {
    this.extras[i] = undefined;
    this.head = i + 1;
  }

  /**
   * Drops written acks from the front: all of them when nothing waits, otherwise once enough piled up
   * (a publisher that always has acks waiting never empties the queue).
   */
  private compact(): void {
    const n = this.head;
    if (n === this.codes.length) {
      this.codes.length = 0;
      this.extras.length = 0;
      this.groups.length = 0;
      this.head = this.groupHead = 0;
      return;
    }
    if (n < COMPACT_AT || n * 2 < this.codes.length) return;
    this.codes.splice(0, n);
    this.extras.splice(0, n);
    this.groups.splice(0, this.groupHead);
    this.groupHead = 0;
    for (const g of this.groups) {
      g.start -= n;
      g.end -= n;
    }
    if (this.built.size > 0) {
      const moved = [...this.built].map(([i, b]) => [i - n, b] as const);
      this.built.clear();
      for (const [i, b] of moved) this.built.set(i, b);
    }
    this.head = 0;
  }
}
