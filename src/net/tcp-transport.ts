/**
 * A `net.Socket` (TCP or TLS) as a `Transport`, and the glue that feeds it to a protocol session.
 *
 * Writes are batched: every chunk written during one event-loop turn is queued and handed to the socket
 * in a single `write` from a `setImmediate` callback (DEPENDENCIES.md: one write per frame is ~10x slower
 * than one per batch). Chunks that are adjacent in memory (consecutive regions of one slab) are merged
 * into one view as they come. Many small chunks are concatenated (fastest on loopback); a batch above
 * CONCAT_LIMIT, or of chunks that are large on average, is corked and written chunk by chunk so that
 * large bodies are not copied again (the socket then uses writev).
 *
 * Back-pressure: `write` returns false once queued + socket-buffered bytes exceed `highWaterMark`; the
 * chunk is still queued (never dropped) and the caller is expected to stop producing until `onDrain`.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../util/logger.js';
import { DEFAULT_INPUT_TURN_BYTES, InputTurnLimit } from './input-turn-limit.js';
import { DrainSignal, OutputBatch } from './output-batch.js';
import type { ProtocolFactory, ProtocolSession, Transport } from './transport.js';

export interface TcpTransportOptions {
  /** Buffered output (bytes) above which `write` returns false. Default 1 MiB. */
  highWaterMark?: number;
  /** `onDrain` fires once buffered output is at or below this. Default 64 KiB (never below the socket's own). */
  lowWaterMark?: number;
  /** After `end()`, a peer that does not read the last bytes is destroyed after this long. Default 5 s. */
  endTimeoutMs?: number;
  /** Bytes read in one event-loop turn before reading stops until the next (input-turn-limit.ts). Default 64 KiB. */
  inputTurnBytes?: number;
}

const CONCAT_LIMIT = 4 * 1024 * 1024;
/**
 * Chunks this big on average are written as they are (corked: one writev). The per-chunk cost of writev
 * only matters for many small chunks (one per frame), which are cheaper to copy into one buffer.
 */
const WRITEV_MIN_AVERAGE = 16 * 1024;

export class TcpTransport implements Transport {
  readonly remoteAddress: string;
  private readonly socket: Socket;
  private readonly endTimeoutMs: number;
  private readonly output = new OutputBatch(() => this.flush());
  private readonly drain: DrainSignal;
  private ending = false;
  private socketClosed = false;
  private endTimer: NodeJS.Timeout | undefined;
  private readonly input: InputTurnLimit;

  constructor(socket: Socket, options: TcpTransportOptions = {}) {
    this.socket = socket;
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    // The socket emits 'drain' only after one of its own writes returned false, i.e. above its own
    // high-water mark; a low-water mark at least that high guarantees we either see 'drain' or can
    // fire right after a flush.
    this.drain = new DrainSignal(
      options.highWaterMark ?? 1024 * 1024,
      Math.max(options.lowWaterMark ?? 64 * 1024, socket.writableHighWaterMark),
    );
    this.endTimeoutMs = options.endTimeoutMs ?? 5000;
    this.input = new InputTurnLimit(options.inputTurnBytes ?? DEFAULT_INPUT_TURN_BYTES, {
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      closed: () => this.socketClosed,
    });
    socket.setNoDelay(true);
    socket.on('drain', () => this.checkDrain());
    socket.once('close', () => {
      this.socketClosed = true;
      this.output.clear();
      this.drain.clear();
      if (this.endTimer) clearTimeout(this.endTimer);
    });
  }

  get closed(): boolean {
    return this.ending || this.socketClosed || this.socket.destroyed;
  }

  /** Bytes accepted by `write` and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.output.bytes + this.socket.writableLength;
  }

  write(chunk: Uint8Array): boolean {
    if (this.closed) return false;
    this.output.add(chunk);
    return this.drain.accept(this.bufferedBytes);
  }

  /**
   * Registers a listener called once, the next time buffered output drains to the low-water mark after
   * `write` returned false (like `socket.once('drain')`). Register again after the next `false`.
   */
  onDrain(listener: () => void): void {
    if (this.socketClosed) return;
    this.drain.onDrain(listener);
  }

  pauseReading(): void {
    this.input.pauseBySession();
  }

  resumeReading(): void {
    this.input.resumeBySession();
  }

  /** `bytes` were read from the socket (input-turn-limit.ts). */
  countInput(bytes: number): void {
    this.input.count(bytes);
  }

  end(): void {
    if (this.ending || this.socketClosed) return;
    this.flush();
    this.ending = true;
    this.socket.end();
    // A peer that never reads would keep the socket (and the broker's shutdown) waiting forever.
    this.endTimer = setTimeout(() => this.socket.destroy(), this.endTimeoutMs);
    this.endTimer.unref();
  }

  destroy(): void {
    this.output.clear();
    this.ending = true;
    this.socket.destroy();
  }

  private flush(): void {
    if (this.output.bytes === 0 || this.closed) return;
    const bytes = this.output.bytes;
    const chunks = this.output.take();
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!);
    } else if (bytes <= CONCAT_LIMIT && bytes < chunks.length * WRITEV_MIN_AVERAGE) {
      this.socket.write(Buffer.concat(chunks, bytes));
    } else {
      this.socket.cork();
      for (const c of chunks) this.socket.write(c);
      this.socket.uncork();
    }
    this.checkDrain();
  }

  private checkDrain(): void {
    if (!this.socketClosed) this.drain.check(this.bufferedBytes);
  }
}

export interface AttachOptions extends TcpTransportOptions {
  logger: Logger;
}

/**
 * Wraps the socket, creates the protocol session and wires bytes and close into it. `onClose` reaches
 * the session exactly once, with the socket error if there was one. A session that throws (against its
 * contract) is logged and its connection destroyed; it never takes the process down.
 */
export function attachSession(
  socket: Socket,
  factory: ProtocolFactory,
  options: AttachOptions,
): TcpTransport {
  const { logger } = options;
  const transport = new TcpTransport(socket, options);
  let session: ProtocolSession | undefined;
  let lastError: Error | undefined;
  let closeReported = false;
  socket.on('error', (err) => {
    lastError = err;
  });
  socket.once('close', () => {
    if (closeReported || !session) return;
    closeReported = true;
    try {
      session.onClose(lastError);
    } catch (err) {
      logger.error({ err, remote: transport.remoteAddress }, 'protocol session threw in onClose');
    }
  });
  try {
    session = factory(transport);
  } catch (err) {
    logger.error({ err, remote: transport.remoteAddress }, 'protocol session could not be created');
    socket.destroy();
    return transport;
  }
  const s = session;
  socket.on('data', (chunk: Buffer) => {
    transport.countInput(chunk.length);
    try {
      s.onData(chunk);
    } catch (err) {
      logger.error({ err, remote: transport.remoteAddress }, 'protocol session threw in onData');
      transport.destroy();
    }
  });
  return transport;
}
