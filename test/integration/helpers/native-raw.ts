/**
 * A raw native-protocol client for broker-side integration tests: frames encoded and decoded with
 * protobufjs from proto/blaze/v1/native.proto, over TCP, TLS or WebSocket, with no logic of its own
 * (the real client library lives in src/client and is tested separately).
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import WebSocket from 'ws';
import { loadProto } from '../../../src/util/proto.js';

const Frame = loadProto('blaze/v1/native.proto').lookupType('blaze.v1.Frame');

// biome-ignore lint/suspicious/noExplicitAny: decoded frames are checked field by field in tests
export type RawFrame = { kind: string } & Record<string, any>;

export function encodeRaw(kind: string, value: object): Buffer {
  const body = Frame.encode(Frame.fromObject({ [kind]: value })).finish();
  const out = Buffer.alloc(4 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

interface Waiter {
  match: (f: RawFrame) => boolean;
  resolve: (f: RawFrame) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class NativeRawClient {
  /** Every frame received and not taken by a waiter, in order. */
  readonly inbox: RawFrame[] = [];
  readonly closed: Promise<void>;
  private buffered: Buffer = Buffer.alloc(0);
  private waiters: Waiter[] = [];
  private nextRequest = 1;
  private isClosed = false;
  private markClosed!: () => void;

  private constructor(
    private readonly out: (bytes: Buffer) => void,
    private readonly end: () => void,
  ) {
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
  }

  static tcp(port: number, tls?: { ca: Buffer | string }): Promise<NativeRawClient> {
    return new Promise((resolve, reject) => {
      const socket: Socket = tls
        ? tlsConnect({ port, host: '127.0.0.1', ca: tls.ca, servername: 'localhost' })
        : netConnect({ port, host: '127.0.0.1' });
      const client = new NativeRawClient(
        (b) => socket.write(b),
        () => socket.end(),
      );
      socket.on('data', (chunk: Buffer) => client.onBytes(chunk));
      socket.on('close', () => client.onClose());
      socket.on('error', (e) => reject(e));
      socket.once(tls ? 'secureConnect' : 'connect', () => resolve(client));
    });
  }

  static ws(url: string, protocol = 'blazemq.v1'): Promise<NativeRawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocol);
      const client = new NativeRawClient(
        (b) => ws.send(b),
        () => ws.close(),
      );
      ws.on('message', (data: Buffer) => client.onBytes(data));
      ws.on('close', () => client.onClose());
      ws.on('error', reject);
      ws.on('open', () => resolve(client));
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(kind: string, value: object): void {
    this.out(encodeRaw(kind, value));
  }

  sendRaw(bytes: Buffer): void {
    this.out(bytes);
  }

  /** The next frame (already received or to come) that `match`es; it is removed from the inbox. */
  next(match: (f: RawFrame) => boolean = () => true, timeoutMs = 5000): Promise<RawFrame> {
    const i = this.inbox.findIndex(match);
    if (i >= 0) return Promise.resolve(this.inbox.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`no matching frame within ${timeoutMs} ms; inbox: ${JSON.stringify(this.inbox)}`));
      }, timeoutMs);
      this.waiters.push({ match, resolve, reject, timer });
    });
  }

  /** Sends `kind` with a fresh request_id and resolves with its answer (Ok, Error or the reply frame). */
  request(kind: string, value: object = {}): Promise<RawFrame> {
    const id = this.nextRequest++;
    this.send(kind, { ...value, request_id: id });
    return this.next((f) => f.kind !== 'deliver' && f[f.kind]?.request_id === id);
  }

  async connect(value: object = {}): Promise<RawFrame> {
    const f = await this.request('connect', { versions: [1], ...value });
    if (f.kind !== 'connected') throw new Error(`connect refused: ${JSON.stringify(f)}`);
    return f;
  }

  /** Waits for Deliver frames until `n` deliveries arrived; returns them in order. */
  async deliveries(n: number, timeoutMs = 5000): Promise<RawFrame[]> {
    const out: RawFrame[] = [];
    while (out.length < n) {
      const f = await this.next((x) => x.kind === 'deliver', timeoutMs);
      out.push(...f.deliver.deliveries);
    }
    return out;
  }

  close(): void {
    this.end();
  }

  private onBytes(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const n = this.buffered.readUInt32BE(0);
      if (this.buffered.length < 4 + n) break;
      const msg = Frame.decode(this.buffered.subarray(4, 4 + n));
      this.buffered = this.buffered.subarray(4 + n);
      const kind = (msg as unknown as { kind: string }).kind;
      const frame = { ...(Frame.toObject(msg, { longs: Number }) as object), kind } as RawFrame;
      const w = this.waiters.find((x) => x.match(frame));
      if (w) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(frame);
      } else this.inbox.push(frame);
    }
  }

  private onClose(): void {
    this.isClosed = true;
    this.markClosed();
  }
}
