/**
 * A `net.Socket` (TCP or TLS) as a `Transport`, and the glue that feeds it to a protocol session.
 *
 * Writes are batched: every chunk written during one event-loop turn is queued and handed to the socket
 * in a single `write`, at the end of the input turn that caused it or from a `setImmediate` callback
 * (output-batch.ts; DEPENDENCIES.md: one write per frame is ~10x slower than one per batch). Chunks that
 * are adjacent in memory (consecutive regions of one slab) are merged into one view as they come. Many small chunks are concatenated (fastest on loopback); a batch above
 * CONCAT_LIMIT, or of chunks that are large on average, is corked and written chunk by chunk so that
 * large bodies are not copied again (the socket then uses writev).
 *
 * Back-pressure: `write` returns false once queued + socket-buffered bytes exceed `highWaterMark`; the
 * chunk is still queued (never dropped) and the caller is expected to stop producing until `onDrain`.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../util/logger.js';
import { BufferedTransport, type BufferedTransportOptions } from './buffered-transport.js';
import { SessionFeed } from './session-feed.js';
import type { ProtocolFactory } from './transport.js';

export type TcpTransportOptions = BufferedTransportOptions;

const CONCAT_LIMIT = 4 * 1024 * 1024;
/**
 * Chunks this big on average are written as they are (corked: one writev). The per-chunk cost of writev
 * only matters for many small chunks (one per frame), which are cheaper to copy into one buffer.
 */
const WRITEV_MIN_AVERAGE = 16 * 1024;

export class TcpTransport extends BufferedTransport {
  private readonly socket: Socket;

  constructor(socket: Socket, options: TcpTransportOptions = {}) {
    super(
      `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      socket.writableHighWaterMark,
      { pause: () => socket.pause(), resume: () => socket.resume() },
      options,
    );
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('drain', () => this.carrierDrained());
    socket.once('close', () => this.carrierClosedNow());
  }

  protected get carrierDone(): boolean {
    return this.socket.destroyed;
  }

  protected get carrierBuffered(): number {
    return this.socket.writableLength;
  }

  protected send(chunks: Uint8Array[], bytes: number): void {
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!);
    } else if (bytes <= CONCAT_LIMIT && bytes < chunks.length * WRITEV_MIN_AVERAGE) {
      this.socket.write(Buffer.concat(chunks, bytes));
    } else {
      this.socket.cork();
      for (const c of chunks) this.socket.write(c);
      this.socket.uncork();
    }
  }

  protected closeGracefully(): void {
    this.socket.end();
  }

  protected terminate(): void {
    this.socket.destroy();
  }
}

export interface AttachOptions extends TcpTransportOptions {
  logger: Logger;
}

/**
 * Wraps the socket, creates the protocol session and wires bytes and close into it (session-feed.ts).
 */
export function attachSession(
  socket: Socket,
  factory: ProtocolFactory,
  options: AttachOptions,
): TcpTransport {
  const transport = new TcpTransport(socket, options);
  const feed = new SessionFeed(transport, options.logger);
  socket.on('error', (err) => feed.error(err));
  socket.once('close', () => feed.closed());
  if (!feed.open(factory)) {
    socket.destroy();
    return transport;
  }
  socket.on('data', (chunk: Buffer) => feed.data(chunk));
  return transport;
}
