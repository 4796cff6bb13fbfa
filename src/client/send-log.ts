/**
 * Sends the broker has not confirmed yet, in sequence order, for resending after a reconnect with the same
 * (producer_id, sequence): the broker accepts each pair once (native.proto Send), so a resend of a message
 * that did arrive is answered Ok without being routed twice. Bounded by `capacity` messages: a producer
 * that gets ahead of the broker waits for room (producer flow control) instead of buffering without bound.
 */

import { ClientCodes, type ClientError } from './codec/errors.js';
import { encodeSendBatch, encodeSendOf } from './codec/frame-encode.js';
import type { DecodedFrame, WireMessage } from './codec/frames.js';
import { messageIdsOf } from './message-ids.js';
import type { WireRequest } from './wire-connection.js';

/**
 * One unconfirmed Send (one message) or SendBatch (several), with what its publish() waits on. It is its
 * own request on the connection (WireRequest): no closure, frame object or extra promise per publish.
 */
export class PendingSend implements WireRequest {
  /** Settle the publish: `ids` are Ok.message_ids when the frame asked for them (want_ids). */
  resolve: (ids: readonly string[] | undefined) => void = noop;
  reject: (error: Error) => void = noop;

  constructor(
    private readonly log: SendLog,
    readonly firstSequence: number,
    /** The message of a Send, or the messages of a SendBatch. */
    private readonly messages: WireMessage | readonly WireMessage[],
    private readonly producerId: string,
    private readonly wantIds: boolean,
  ) {}

  get count(): number {
    return Array.isArray(this.messages) ? this.messages.length : 1;
  }

  /** The frame for `requestId`, with the same sequence numbers every time it is (re)sent. */
  encode(requestId: number): Uint8Array {
    const m = this.messages;
    // want_ids only when asked (false is not written): the plain Send is byte-identical to version 1's.
    if (!Array.isArray(m)) {
      return encodeSendOf(requestId, m as WireMessage, '', this.producerId, this.firstSequence, this.wantIds);
    }
    return encodeSendBatch({
      request_id: requestId,
      messages: m,
      producer_id: this.producerId,
      first_sequence: this.firstSequence,
      want_ids: this.wantIds,
    });
  }

  answered(frame: DecodedFrame): void {
    if (this.log.remove(this)) this.resolve(this.wantIds ? messageIdsOf(frame) : undefined);
  }

  failed(error: ClientError): void {
    // Lost with the connection: stays in the log for the resend, unless the client is closed for good
    // (failAll then rejects it). Anything else is the broker's answer.
    if (error.code === ClientCodes.CONNECTION_LOST && !this.log.isFailed) return;
    if (this.log.remove(this)) this.reject(error);
  }
}

function noop(): void {}

export class SendLog {
  private readonly entries = new Map<number, PendingSend>();
  private messages = 0;
  private readonly roomWaiters: Array<() => void> = [];
  private nextSequence = 1;
  private failed = false;

  constructor(private readonly capacity: number) {}

  /** Sequence numbers for `count` messages (contiguous, as SendBatch needs). */
  allocate(count: number): number {
    const first = this.nextSequence;
    this.nextSequence += count;
    return first;
  }

  hasRoom(count: number): boolean {
    // An oversized batch still goes when the log is empty, or it would wait forever.
    return this.messages === 0 || this.messages + count <= this.capacity;
  }

  /** Resolves at the next removal; callers re-check hasRoom() and add() in the same synchronous step. */
  roomFreed(): Promise<void> {
    return new Promise<void>((r) => this.roomWaiters.push(r));
  }

  add(entry: PendingSend): void {
    this.entries.set(entry.firstSequence, entry);
    this.messages += entry.count;
  }

  /** Removes a settled entry; false when it was no longer there. */
  remove(entry: PendingSend): boolean {
    if (this.entries.get(entry.firstSequence) !== entry) return false;
    this.entries.delete(entry.firstSequence);
    this.messages -= entry.count;
    if (this.roomWaiters.length > 0) for (const w of this.roomWaiters.splice(0)) w();
    return true;
  }

  /** In sequence order (Map keeps insertion order, and sequences are allocated in insertion order). */
  pending(): PendingSend[] {
    return [...this.entries.values()];
  }

  get size(): number {
    return this.messages;
  }

  /** True once failAll ran: the client is closed for good, nothing will be resent. */
  get isFailed(): boolean {
    return this.failed;
  }

  /** Fails everything (client closed for good). */
  failAll(error: Error): void {
    this.failed = true;
    const all = this.pending();
    for (const e of all) this.remove(e);
    for (const e of all) e.reject(error);
  }
}
