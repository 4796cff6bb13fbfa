/**
 * The seam between membership/channel and a reliability protocol. A protocol turns "multicast this
 * payload" / "send this payload to member X" into frames on the transport and hands delivered messages
 * up with their sender. The NACK protocol (./nack) is the first; Totem (total order) and FEC plug in
 * behind the same interface, chosen per channel as its quality of service.
 *
 * View changes follow a flush (virtual synchrony; the membership side is in ../membership):
 *   1. `prepare(survivors)`: stop accepting sends, freeze delivery from senders that are not survivors, return
 *      the digest (per sender: highest delivered; self: highest sent).
 *   2. the coordinator computes the cut (per sender, the maximum over the survivors' digests) and installs it:
 *      `install(view, cut, done)`: deliver every message up to the cut that is still missing (fetching it from
 *      any member that has it), drop state of departed senders, start joined/merged senders after their cut,
 *      then call `done()` and accept sends again, stamped with the new view.
 *   `abort()` abandons a prepared flush and accepts sends again in the old view.
 */

import type { Logger } from '../../util/logger.js';
import type { Clock, Random } from '../clock.js';
import type { View } from '../view.js';
import type { FrameBodies, FrameKind } from '../wire.js';

/** Per sender: a sequence number (highest delivered, highest sent, or a cut). */
export type Digest = Map<string, number>;

export interface Delivery {
  readonly sender: string;
  readonly payload: Uint8Array;
  /** True for a multicast, false for a point-to-point message. */
  readonly multicast: boolean;
}

/** How a protocol puts frames on the wire; the stack encodes them into GroupFrames of the channel's group. */
export interface FrameSender {
  multicast<K extends FrameKind>(kind: K, body: FrameBodies[K]): void;
  unicast<K extends FrameKind>(to: string, kind: K, body: FrameBodies[K]): void;
}

export interface ProtocolContext {
  readonly self: string;
  readonly wire: FrameSender;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** Largest payload one `multicast`/`unicast` call may carry (transport maxPayload minus frame overhead). */
  readonly maxPayload: number;
}

export interface ReliableProtocol {
  readonly name: string;
  /** See `ReliableProtocol.maxPayload` in ProtocolContext: bigger application messages are fragmented above. */
  readonly maxPayload: number;
  /** Starts in `view` (the member's first view, usually a singleton) with no history. */
  start(view: View): void;
  /**
   * Reliable multicast to the current view, delivered to self too. Returns false, sending nothing, when the
   * flow-control window is full or a view change is in progress: wait for `writable()` and retry.
   */
  multicast(payload: Uint8Array): boolean;
  /** Reliable FIFO point-to-point to a member of the view. Same back-pressure contract as `multicast`. */
  unicast(to: string, payload: Uint8Array): boolean;
  /** Resolves when `multicast` (or `unicast(to)` with `to`) would accept a message. */
  writable(to?: string): Promise<void>;
  onDeliver(handler: (d: Delivery) => void): void;
  /**
   * Deliveries may be paused by the consumer (its buffers are full). Paused, the protocol keeps receiving
   * but does not deliver, so its digest stops advancing and senders run out of credit: back-pressure reaches
   * the senders. A flush delivers regardless, bounded by the senders' windows.
   */
  setPaused(paused: boolean): void;
  /** Frames of the kinds this protocol owns. Returns false for kinds it does not handle. */
  handle(from: string, kind: FrameKind, body: FrameBodies[FrameKind]): boolean;
  prepare(survivors: readonly string[]): Digest;
  install(view: View, cut: Digest, done: () => void): void;
  abort(): void;
  close(): void;
  readonly stats: Readonly<Record<string, number>>;
}

export type ProtocolFactory = (ctx: ProtocolContext) => ReliableProtocol;
