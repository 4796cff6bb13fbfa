/**
 * Incarnations: a member is its address *and* the incarnation of the process behind it. A process that
 * restarts on the same address starts its sequence numbers again at 1; if receivers took it for the
 * member they knew, they would drop its first messages as duplicates and wait for the old process's gaps
 * forever. So every datagram carries the sender's incarnation (blaze.v1.Bundle.incarnation), every view
 * the incarnation of each member (blaze.v1.View.incarnations), and a frame from another incarnation of a
 * member's address is never taken as that member's.
 *
 * Value: milliseconds since the epoch x 2048 + 11 random bits. A process restarted on an address starts
 * after its predecessor (the member socket's address is exclusive), so the newer incarnation compares
 * greater: stale datagrams of a dead incarnation are told apart from a restart. The value stays below 2^53
 * (exact in a JS number, which is how protobufjs hands uint64 to us) until the year 2109.
 */
import { randomInt } from 'node:crypto';

export function newIncarnation(now = Date.now()): number {
  return now * 2048 + randomInt(2048);
}

/** What a frame from incarnation `seen` of a member known as incarnation `known` means. */
export type IncarnationCheck = 'same' | 'stale' | 'restarted';

export function compareIncarnation(known: number, seen: number): IncarnationCheck {
  if (seen === known) return 'same';
  return seen < known ? 'stale' : 'restarted';
}
