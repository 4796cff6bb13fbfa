/**
 * The seam between the group stack and the network. Real UDP (unicast + multicast) and the simulated
 * network used by protocol tests both implement it, so every protocol runs unchanged over either.
 * Payloads are opaque to the transport; it may bundle several into one datagram and must hand them to
 * `onMessage` one by one, in the order they were given for the same destination.
 */
export interface GroupTransport {
  /** This endpoint's unique address, `host:port`. Members are identified by it and `incarnation`. */
  readonly localAddress: string;
  /**
   * The incarnation of this endpoint (src/group/incarnation.ts): carried with everything it sends, so that
   * receivers tell a process restarted on the same address from its predecessor. Positive.
   */
  readonly incarnation: number;
  /**
   * To every member (IP multicast, or each configured peer in unicast-only mode). May be lost.
   * The UDP and loopback transports never hand a member its own multicasts: self-delivery, where a
   * protocol wants it, is done locally by that protocol.
   */
  multicast(payload: Uint8Array): void;
  /**
   * Optional: the same as `multicast(head + body + tail)`, without building that payload first; the
   * transport copies the three parts straight into its datagram (one copy of the body instead of two).
   */
  multicastParts?(head: Uint8Array, body: Uint8Array, tail: Uint8Array): void;
  /** To one member. May be lost. */
  unicast(to: string, payload: Uint8Array): void;
  /** `incarnation` is the sender's (0 if it did not say). */
  onMessage(handler: (from: string, payload: Uint8Array, incarnation: number) => void): void;
  /** Largest payload the transport carries in one datagram; bigger ones must be fragmented above it. */
  readonly maxPayload: number;
  /**
   * Optional back-pressure signal: bytes accepted but not yet handed to the network. A sender that
   * keeps this bounded avoids overrunning its own socket (UDP never pushes back by itself).
   */
  readonly queuedBytes?: number;
  close(): Promise<void>;
}
