/**
 * A minimal STOMP 1.2 peer for crash tests: it must survive the broker vanishing mid-frame (kill -9), so
 * every pending receipt simply stays unknown when the socket dies, and it exposes frames as they come.
 */
import { once } from 'node:events';
import net from 'node:net';

export interface Frame {
  command: string;
  headers: Record<string, string>;
  body: Buffer;
}

export class StompPeer {
  private buf: Buffer = Buffer.alloc(0);
  private nextReceipt = 0;
  private readonly receipts = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  onMessage: (f: Frame) => void = () => {};
  onError: (f: Frame) => void = () => {};
  readonly closed: Promise<void>;
  alive = true;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => this.feed(d));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.alive = false;
        for (const r of this.receipts.values()) r.reject(new Error('connection closed'));
        this.receipts.clear();
        resolve();
      }),
    );
  }

  static async connect(port: number): Promise<StompPeer> {
    const socket = net.connect({ host: '127.0.0.1', port });
    await once(socket, 'connect');
    const peer = new StompPeer(socket);
    const connected = new Promise<void>((resolve, reject) => {
      peer.onError = (f) => reject(new Error(`ERROR ${f.headers['message']}`));
      peer.connectedHook = resolve;
    });
    socket.write('CONNECT\naccept-version:1.2\nhost:/\nheart-beat:0,0\n\n\0');
    await connected;
    peer.onError = () => {};
    return peer;
  }

  private connectedHook: (() => void) | undefined;

  private feed(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === 0x0a || this.buf[start] === 0x0d)) start++;
      const headEnd = this.buf.indexOf('\n\n', start);
      if (headEnd < 0) break;
      const lines = this.buf.toString('utf8', start, headEnd).split('\n');
      const command = lines[0]!;
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0 && !(line.slice(0, i) in headers)) headers[line.slice(0, i)] = line.slice(i + 1);
      }
      const bodyStart = headEnd + 2;
      let bodyEnd: number;
      if (headers['content-length'] !== undefined) {
        bodyEnd = bodyStart + Number(headers['content-length']);
        if (this.buf.length < bodyEnd + 1) break;
      } else {
        bodyEnd = this.buf.indexOf(0, bodyStart);
        if (bodyEnd < 0) break;
      }
      const frame = { command, headers, body: this.buf.subarray(bodyStart, bodyEnd) };
      this.buf = this.buf.subarray(bodyEnd + 1);
      this.dispatch(frame);
    }
  }

  private dispatch(f: Frame): void {
    if (f.command === 'CONNECTED') this.connectedHook?.();
    else if (f.command === 'MESSAGE') this.onMessage(f);
    else if (f.command === 'RECEIPT') {
      const id = f.headers['receipt-id']!;
      this.receipts.get(id)?.resolve();
      this.receipts.delete(id);
    } else if (f.command === 'ERROR') {
      this.onError(f);
      for (const r of this.receipts.values()) r.reject(new Error(`ERROR ${f.headers['message']}`));
      this.receipts.clear();
    }
  }

  /** Writes a frame asking for a receipt; resolves on RECEIPT, rejects on ERROR or close. */
  request(command: string, headers: Record<string, string>, body = ''): Promise<void> {
    if (!this.alive) return Promise.reject(new Error('connection closed'));
    const id = `r${++this.nextReceipt}`;
    const p = new Promise<void>((resolve, reject) => this.receipts.set(id, { resolve, reject }));
    this.write(command, { ...headers, receipt: id }, body);
    return p;
  }

  write(command: string, headers: Record<string, string>, body = ''): void {
    if (!this.alive) return;
    let head = command + '\n';
    for (const [k, v] of Object.entries(headers)) head += `${k}:${v}\n`;
    const bytes = Buffer.from(body);
    this.socket.write(`${head}content-length:${bytes.length}\n\n`);
    this.socket.write(bytes);
    this.socket.write('\0');
  }

  close(): void {
    this.socket.destroy();
  }
}
