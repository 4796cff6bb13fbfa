/**
 * What a native-protocol session needs from the broker, and its tunables with defaults.
 */
import type { Authenticator, BrokerCore, Principal } from '../../core/api.js';
import type { KeyValueNamespace } from '../../core/kv.js';
import type { Logger } from '../../util/logger.js';
import type { Timers } from '../../util/timers.js';

export interface NativeLimits {
  /** Largest frame accepted from a client (bytes after the length prefix); checked before buffering. */
  maxFrameSize: number;
  /**
   * Requests awaiting the core or the store (persistent sends, commits, durable acks). At this many the
   * session stops reading the socket (producer flow control); it reads again at half.
   */
  maxInflight: number;
  maxSubscriptions: number;
  maxTransactions: number;
  maxTemporaries: number;
  /** Unacknowledged deliveries one explicit-ack subscription may hold, whatever credit it was given. */
  maxUnacked: number;
  /** Messages in one BrowseResult at most (also the default when Browse.max_messages is 0). */
  maxBrowse: number;
  /** Heart-beat interval bounds: what a client asks for is clamped into them (0 stays 0 = none). */
  minHeartbeatMs: number;
  maxHeartbeatMs: number;
  /** A client that leaves our output undrained this long is sent Error and dropped. */
  slowConsumerTimeoutMs: number;
  /** A Deliver frame is closed and written once it reaches this size. */
  deliverBatchBytes: number;
  /** Duplicate detection: producer ids remembered at most (least recently used are forgotten). */
  maxProducers: number;
  /** Duplicate detection: a producer id not seen for this long is forgotten. */
  producerIdleMs: number;
}

export const DEFAULT_NATIVE_LIMITS: Readonly<NativeLimits> = Object.freeze({
  maxFrameSize: 4 * 1024 * 1024,
  maxInflight: 1000,
  maxSubscriptions: 1000,
  maxTransactions: 1000,
  maxTemporaries: 1000,
  maxUnacked: 65_535,
  maxBrowse: 1000,
  minHeartbeatMs: 1000,
  maxHeartbeatMs: 300_000,
  slowConsumerTimeoutMs: 30_000,
  deliverBatchBytes: 256 * 1024,
  maxProducers: 100_000,
  producerIdleMs: 7 * 24 * 3600_000,
});

export interface NativeContext {
  core: BrokerCore;
  authenticator: Authenticator;
  limits?: Partial<NativeLimits>;
  logger?: Logger;
  timers?: Timers;
  /** `Connected.server`, "blazemq/<version>". */
  serverName?: string;
  /** `Connected.store_id`: identity of the store (same for brokers sharing one). */
  storeId?: string;
  /**
   * Checks a bearer token (Connect.token); without it tokens are refused with UNAUTHENTICATED. Resolves
   * null for an unknown or expired token.
   */
  authenticateToken?: (token: string) => Promise<Principal | null>;
  /** Where producer sequences are kept for duplicate detection (`core.kv('native-producers')`). */
  producers?: KeyValueNamespace;
}

export interface ResolvedNativeContext {
  readonly core: BrokerCore;
  readonly authenticator: Authenticator;
  readonly limits: Readonly<NativeLimits>;
  readonly logger: Logger;
  readonly timers: Timers;
  readonly serverName: string;
  readonly storeId: string;
  readonly authenticateToken: ((token: string) => Promise<Principal | null>) | undefined;
}

export const PRODUCERS_NAMESPACE = 'native-producers';
