/**
 * The single I/O seam between `net` (TCP, TLS, WebSocket, in-memory pairs for tests) and a protocol
 * session. A session never sees a socket: bytes come in through `ProtocolSession.onData`, and go out
 * through `Transport.write`, which batches (one socket write per event-loop turn, not one per frame).
 */
export interface Transport {
  /** Queue bytes for the peer. Returns false when the peer is not keeping up (buffer above high-water). */
  write(chunk: Uint8Array): boolean;
  /** Called once when the buffered output has drained below the low-water mark after `write` returned false. */
  onDrain(listener: () => void): void;
  /** Stop / restart reading from the peer (back-pressure on a producer). */
  pauseReading(): void;
  resumeReading(): void;
  /** Flush what is queued, then close. */
  end(): void;
  /** Close now, dropping what is queued. */
  destroy(): void;
  readonly remoteAddress: string;
  readonly closed: boolean;
}

export interface ProtocolSession {
  /** Bytes from the peer, in order. Must not throw: protocol errors are handled inside the session. */
  onData(chunk: Buffer): void;
  /** The transport is gone (peer closed, error, or `end`/`destroy` completed). Called exactly once. */
  onClose(error?: Error): void;
}

export type ProtocolFactory = (transport: Transport) => ProtocolSession;
