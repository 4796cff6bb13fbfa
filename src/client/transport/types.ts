/**
 * The client's only I/O seam: a byte pipe to one broker. Frames are handed over whole (length prefix
 * included, src/client/codec/codec.ts) so that message-based transports (WebSocket: one frame per binary
 * message, native.proto) and stream transports (TCP: batched writes) share one contract. Incoming bytes
 * are a stream in both cases; the codec reassembles frames.
 */
import type { Endpoint } from '../url.js';
import type { VmBroker } from '../vm-registry.js';

export interface TransportHandlers {
  onData(bytes: Uint8Array): void;
  /** Called once, when the pipe is gone for any reason; `error` when it failed rather than closed. */
  onClose(error?: Error): void;
  /** The transport accepts writes again after write() returned false. */
  onDrain(): void;
}

export interface ClientTransport {
  /** Queues one complete frame. false: the transport is over its high-water mark; wait for onDrain. */
  write(frame: Uint8Array): boolean;
  /** Closes the pipe; onClose follows. */
  close(): void;
  /**
   * The broker's largest accepted frame (Connected.max_frame_size), known once connected. A message-based
   * transport may then carry several frames per message (native.proto: the broker accepts messages of
   * up to twice that); before it is known, one frame per message.
   */
  peerMaxFrame?(bytes: number): void;
}

export interface TransportOptions {
  /** TLS options for tls:// (Node only): passed to tls.connect (ca, rejectUnauthorized, servername...). */
  tls?: Record<string, unknown>;
  /** Gives up a connection attempt after this many ms. */
  connectTimeout: number;
  /** The in-process broker for vm:// (instead of the vm registry). */
  broker?: VmBroker | undefined;
}

export type TransportFactory = (
  endpoint: Endpoint,
  handlers: TransportHandlers,
  options: TransportOptions,
) => Promise<ClientTransport>;
