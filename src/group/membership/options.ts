export interface MembershipOptions {
  /** Every member multicasts a heartbeat this often (ms). */
  heartbeatInterval: number;
  /** A member not heard from for this long (ms) is suspected. */
  failureTimeout: number;
  /** A suspect is asked directly; no answer within this (ms) and it is excluded. */
  verifyTimeout: number;
  /** How long a new member waits for coordinators to answer its discovery (ms). */
  discoveryTimeout: number;
  /** Period of repeated join/leave requests and discovery probes (ms). */
  joinRetry: number;
  /** A join not answered by an install within this (ms) starts over with discovery. */
  joinTimeout: number;
  /** Prepare/install/merge requests are repeated this often (ms) until answered. */
  flushRetry: number;
  /** A flush step not answered by everyone within this (ms) gives up on the silent members. */
  flushTimeout: number;
  /** After hearing another partition's coordinator, wait this long (ms) for others before merging. */
  mergeDelay: number;
  /** A graceful leave that is not confirmed within this (ms) completes anyway. */
  leaveTimeout: number;
}

export const DEFAULT_MEMBERSHIP: MembershipOptions = {
  heartbeatInterval: 500,
  failureTimeout: 3000,
  verifyTimeout: 1000,
  discoveryTimeout: 1000,
  joinRetry: 250,
  joinTimeout: 5000,
  flushRetry: 200,
  flushTimeout: 2000,
  mergeDelay: 1000,
  leaveTimeout: 5000,
};

export function membershipOptions(o: Partial<MembershipOptions> = {}): MembershipOptions {
  return { ...DEFAULT_MEMBERSHIP, ...o };
}
