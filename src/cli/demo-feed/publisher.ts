/**
 * A minimal STOMP 1.2 publisher over TCP: CONNECT, then SEND frames with the socket's back-pressure
 * respected (send() returns false when the kernel buffer is full; wait for drained()), and DISCONNECT with a
 * receipt so that close() resolves only after the server has handled every frame sent before it
 * (STOMP 1.2 "DISCONNECT": graceful shutdown). A server ERROR frame fails the publisher.
 */
import { connect, type Socket } from 'node:net';
import { BlazeError } from '../../util/errors.js';
import { bodyText, encodeFrame, type Frame, FrameDecoder } from './frames.js';

export interface PublisherOptions {
  host: string;
  port: number;
  login?: string;
  passcode?: string;
  /** Virtual host for the CONNECT `host` header (STOMP 1.2 requires one). */
  vhost?: string;
  timeoutMs?: number;
}

export class StompPublisher {
  private readonly decoder = new FrameDecoder();
  private failure: Error | undefined;
  private readonly waiters = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  private nextReceipt = 1;
  private readonly frameListeners: Array<(f: Frame) => void> = [];
  private readonly failed: Promise<Error>;
  private fail!: (e: Error) => void;

  private constructor(private readonly socket: Socket) {
    this.failed = new Promise((resolve) => {
      this.fail = resolve;
    });
  }

  static async connect(options: PublisherOptions): Promise<StompPublisher> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const socket = connect({ host: options.host, port: options.port });
    socket.setNoDelay(true);
    const p = new StompPublisher(socket);
    p.attach();
    const headers: Record<string, string> = {
      'accept-version': '1.2',
      host: options.vhost ?? options.host,
      // No heart-beats: the feed writes often, and a quiet feed is closed by the operator, not by time.
      'heart-beat': '0,0',
    };
    if (options.login !== undefined) headers.login = options.login;
    if (options.passcode !== undefined) headers.passcode = options.passcode;
    const connected = p.expect('CONNECTED');
    socket.write(encodeFrame('CONNECT', headers));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connected,
        p.failed.then((e) => Promise.reject(e)),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new BlazeError('CLOSED', `no CONNECTED from ${options.host}:${options.port}`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return p;
  }

  /** The error that ended the connection, once it has ended abnormally. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Queues one SEND; false when the socket's buffer is full (wait for drained() before sending more). */
  send(destination: string, body: string, headers: Record<string, string> = {}): boolean {
    if (this.failure) throw this.failure;
    return this.socket.write(encodeFrame('SEND', { destination, ...headers }, body));
  }

  drained(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.socket.writableNeedDrain) return Promise.resolve();
    return Promise.race([
      new Promise<void>((resolve) => this.socket.once('drain', () => resolve())),
      this.failed.then((e) => Promise.reject(e)),
    ]);
  }

  /** DISCONNECT with a receipt, then end the socket; rejects if the server reported an error first. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.failure) {
      this.socket.destroy();
      throw this.failure;
    }
    const id = `disconnect-${this.nextReceipt++}`;
    const receipt = new Promise<void>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
    this.socket.write(encodeFrame('DISCONNECT', { receipt: id }));
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        receipt,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new BlazeError('CLOSED', 'no RECEIPT for DISCONNECT')), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.socket.end();
    }
  }

  private expect(command: string): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const onFrame = (f: Frame) => {
        if (f.command === command) resolve(f);
      };
      this.frameListeners.push(onFrame);
      this.failed.then(reject);
    });
  }

  private attach(): void {
    this.socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.decoder.push(chunk);
      } catch (err) {
        this.abort(new BlazeError('PROTOCOL', `bad frame from the server: ${(err as Error).message}`));
        return;
      }
      for (const f of frames) this.onFrame(f);
    });
    this.socket.on('error', (err) =>
      this.abort(new BlazeError('CLOSED', `connection failed: ${err.message}`, { cause: err })),
    );
    this.socket.on('close', () => this.abort(new BlazeError('CLOSED', 'connection closed by the server')));
  }

  private onFrame(f: Frame): void {
    if (f.command === 'ERROR') {
      const detail = bodyText(f).trim();
      this.abort(
        new BlazeError(
          'PROTOCOL',
          `server error: ${f.headers.message ?? 'ERROR'}${detail ? `: ${detail}` : ''}`,
        ),
      );
      return;
    }
    if (f.command === 'RECEIPT') {
      const id = f.headers['receipt-id'];
      const w = id !== undefined ? this.waiters.get(id) : undefined;
      if (w && id !== undefined) {
        this.waiters.delete(id);
        w.resolve();
      }
      return;
    }
    for (const l of this.frameListeners) l(f);
  }

  private abort(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const w of this.waiters.values()) w.reject(e);
    this.waiters.clear();
    this.fail(e);
    this.socket.destroy();
  }
}
